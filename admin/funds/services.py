"""Funds: create one (with its budget deposit in the ledger), add deposits, read an overview."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.models import ImportRun
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.money import parse_amount
from ledger import store
from ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from merchant.services import CATEGORIES
from wallet.models import Child, Fund, Household, Municipality, Voucher

MAX_AGE_LIMIT = 30  # the highest age limit a fund may set
_BAND = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*[:=]\s*(.+)$")


def parse_age_band(text: str) -> dict[str, int]:
    """Return ``{"min_age", "max_age", "budget_cents"}`` for "0-11:250,00"; raise DomainError."""
    match = _BAND.match(text or "")
    if not match:
        raise DomainError(
            "bad_age_band", _l("Write an age band like 0-11:250,00."), value=str(text)[:40]
        )
    low, high = int(match.group(1)), int(match.group(2))
    if low > high:
        raise DomainError("bad_age_band", _l("The lowest age must come first, e.g. 0-11:250,00."))
    return {"min_age": low, "max_age": high, "budget_cents": parse_amount(match.group(3))}


def parse_categories(values: Iterable[str]) -> list[str]:
    """Return the shop category keys (``merchant.services.CATEGORIES``) named by words
    separated by commas or spaces; raise DomainError naming the allowed keys."""
    found: list[str] = []
    for value in values:
        for word in re.split(r"[,\s]+", value.strip().lower()):
            if not word:
                continue
            if word not in CATEGORIES:
                raise DomainError(
                    "bad_category",
                    _l(
                        "Unknown shop category %(value)s; choose from: %(allowed)s.",
                        value=word[:40],
                        allowed=", ".join(CATEGORIES),
                    ),
                    value=word[:40],
                    allowed=", ".join(CATEGORIES),
                )
            if word not in found:
                found.append(word)
    return found


def _check_bands(bands: list[dict[str, Any]]) -> None:
    """Refuse overlapping age bands."""
    ordered = sorted(bands, key=lambda b: b["min_age"])
    for before, after in pairwise(ordered):
        if after["min_age"] <= before["max_age"]:
            raise DomainError("bad_age_band", _l("Age bands may not overlap."))


def create_fund(
    session: Session,
    municipality: Municipality,
    *,
    name: str,
    start: date,
    end: date,
    budget_cents: int,
    actor: str,
    deposit_cents: int = 0,
    reference_date: date | None = None,
    categories: Iterable[str] = (),
    age_bands: Iterable[dict[str, Any]] = (),
    max_age: int = 17,
    pro_rata: bool = False,
    show_balance_to_shop: bool = False,
    ip: str | None = None,
) -> Fund:
    """Create an open fund, open its ledger accounts and record its budget deposit."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise DomainError("bad_name", _l("Give the fund a name of at most 120 characters."))
    if end < start:
        raise DomainError("bad_period", _l("The end date must not be before the start date."))
    if budget_cents <= 0 or deposit_cents < 0:
        raise DomainError("amount_not_positive", _l("The amount must be more than zero."))
    bands = [dict(b) for b in age_bands]
    _check_bands(bands)
    if not 0 <= max_age <= MAX_AGE_LIMIT:
        raise DomainError(
            "bad_max_age",
            _l("The age limit must be a whole number from 0 to %(most)s.", most=MAX_AGE_LIMIT),
        )
    fund = Fund(
        municipality_id=municipality.id,
        name=name,
        period_start=start,
        period_end=end,
        budget_cents=budget_cents,
        reference_date=reference_date or start,
        age_bands=bands,
        max_age=max_age,
        categories=parse_categories(categories),
        pro_rata=pro_rata,
        show_balance_to_shop=show_balance_to_shop,
        status="open",
        created_at=datetime.now(UTC),
    )
    session.add(fund)
    session.flush()  # the id names the fund's ledger accounts
    store.open_account(session, fund.bank_account)
    store.open_account(session, fund.account, non_negative=True)
    record_event(
        session,
        "fund.created",
        actor=actor,
        subject=f"fund:{fund.id}",
        tenant_id=municipality.id,
        after=describe(fund) | {"deposit_cents": deposit_cents},
        ip=ip,
    )
    if deposit_cents:
        deposit(session, fund, deposit_cents, actor=actor, ip=ip)
    return fund


def deposit(
    session: Session, fund: Fund, cents: int, *, actor: str, ip: str | None = None
) -> store.Appended:
    """Record money put into the fund by the municipality (bank -> fund)."""
    if cents <= 0:
        raise DomainError("amount_not_positive", _l("The amount must be more than zero."))
    entry = store.append(
        session,
        "fund.deposit",
        [(fund.bank_account, -cents), (fund.account, cents)],
        meta={"fund": fund.id},
    )
    record_event(
        session,
        "fund.deposited",
        actor=actor,
        subject=f"fund:{fund.id}",
        tenant_id=fund.municipality_id,
        after={"cents": cents, "ledger_seq": entry.seq, "ledger_hash": entry.hash},
        ip=ip,
    )
    return entry


def describe(fund: Fund) -> dict[str, Any]:
    """Return the fund's settings as JSON-safe values (audit, CLI)."""
    return {
        "name": fund.name,
        "start": fund.period_start.isoformat(),
        "end": fund.period_end.isoformat(),
        "reference_date": fund.reference_date.isoformat(),
        "budget_cents": fund.budget_cents,
        "age_bands": fund.age_bands,
        "max_age": fund.max_age,
        "categories": fund.categories,
        "pro_rata": fund.pro_rata,
        "show_balance_to_shop": fund.show_balance_to_shop,
    }


@dataclass(frozen=True)
class FundOverview:
    """Counts and money of one fund, for its page and ``fund list``."""

    households: int
    activated_households: int
    children: int
    children_missing: int
    vouchers: int
    issued_cents: int  # issue and top-up entries out of the fund account
    balance_cents: int  # what the fund still holds
    import_runs: list[ImportRun]


def overview(session: Session, fund: Fund) -> FundOverview:
    """Return the counts and amounts shown on the fund page."""
    households, activated = session.execute(
        select(func.count(Household.id), func.count(Household.pin_hash)).where(
            Household.fund_id == fund.id
        )
    ).one()
    children, present = session.execute(
        select(func.count(Child.id), func.count(Child.id).filter(Child.in_latest_import)).where(
            Child.fund_id == fund.id
        )
    ).one()
    vouchers = session.execute(
        select(func.count(Voucher.id)).where(Voucher.fund_id == fund.id)
    ).scalar_one()
    runs = session.execute(
        select(ImportRun)
        .where(ImportRun.fund_id == fund.id)
        .order_by(ImportRun.id.desc())
        .limit(10)
    ).scalars()
    return FundOverview(
        households=int(households),
        activated_households=int(activated),
        children=int(children),
        children_missing=int(children) - int(present),
        vouchers=int(vouchers),
        issued_cents=issued_cents(session, fund),
        balance_cents=store.balance(session, fund.account),
        import_runs=list(runs),
    )


def issued_cents(session: Session, fund: Fund) -> int:
    """Return the total issued and topped up from the fund account."""
    total = session.execute(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .join(LedgerEntry, LedgerEntry.seq == LedgerPosting.seq)
        .where(
            LedgerAccount.name == fund.account,
            LedgerEntry.kind.in_(("voucher.issue", "voucher.topup")),
        )
    ).scalar_one()
    return -int(total)


def find_household(session: Session, fund: Fund, reference: str) -> Household | None:
    """Return the fund's household with this reference, or None."""
    return session.execute(
        select(Household).where(Household.fund_id == fund.id, Household.reference == reference)
    ).scalar_one_or_none()


def find_fund(session: Session, key: str) -> Fund | None:
    """Return a fund by id (CLI argument)."""
    return session.get(Fund, int(key)) if key.strip().isdigit() else None
