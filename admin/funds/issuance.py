"""Issuing budgets (one ledger entry per child, batched), top-ups, and activation letters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from admin.funds import letters as letter_pdf
from admin.funds.letter_texts import letter_texts
from admin.funds.paper import addressee
from admin.notifications import notify
from kindpakket.accounts import voucher_account
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.money import format_euro
from ledger import store
from ledger.store import Appended, NewEntry
from wallet.models import Child, Fund, Household, Voucher

_vouchers = cast(Table, Voucher.__table__)
BATCH = 5_000  # entries per append_many call; progress is reported per batch
Progress = Callable[[str, int, int], None]  # (phase, done, total)


def age_on(birth_date: date, day: date) -> int:
    """Return the age in whole years on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def budget_for(fund: Fund, birth_date: date, on: date) -> int:
    """Return the cents a child gets: age band on the reference date, pro rata when asked."""
    amount = fund.budget_cents
    age = age_on(birth_date, fund.reference_date)
    for band in fund.age_bands or []:
        if int(band["min_age"]) <= age <= int(band["max_age"]):
            amount = int(band["budget_cents"])
            break
    if fund.pro_rata and on > fund.period_start:
        total_days = (fund.period_end - fund.period_start).days + 1
        days_left = max(0, (fund.period_end - on).days + 1)
        amount = amount * days_left // total_days  # round down to whole cents
    return amount


def check_can_issue(session: Session, fund: Fund, cents: int) -> None:
    """Refuse issuing from a closed fund or beyond what the fund holds."""
    if fund.status != "open":
        raise DomainError("fund_closed", _l("This fund is closed."))
    available = store.balance(session, fund.account)
    if cents > available:
        raise DomainError(
            "fund_balance_too_low",
            _l("The fund does not hold enough money for this. Add a deposit first."),
            available=format_euro(available),
            needed=format_euro(cents),
        )


def issue_budgets(
    session: Session,
    fund: Fund,
    grants: Sequence[tuple[int, int]],
    *,
    actor: str,
    import_run: int | None = None,
    progress: Progress | None = None,
) -> list[int]:
    """Create a voucher per ``(child id, cents)`` and append one ``voucher.issue`` entry each.

    Vouchers are inserted in bulk, their accounts opened with ``open_accounts`` and the
    entries appended with ``append_many`` in batches, all in the caller's transaction. The
    idempotency key ``voucher.issue:<voucher id>`` makes a second issue of one voucher
    impossible. Returns the new voucher ids.
    """
    if not grants:
        return []
    check_can_issue(session, fund, sum(cents for _, cents in grants))
    now = datetime.now(UTC)
    rows = [
        {"fund_id": fund.id, "child_id": child_id, "status": "active", "created_at": now}
        for child_id, _ in grants
    ]
    store.insert_table_rows(session.connection(), _vouchers, rows)  # bulk path (COPY on PG)
    wanted = {child_id for child_id, _ in grants}
    result = session.execute(select(Voucher.child_id, Voucher.id).where(Voucher.fund_id == fund.id))
    voucher_of = {int(r[0]): int(r[1]) for r in result if r[0] in wanted}
    store.open_accounts(session, map(voucher_account, voucher_of.values()), non_negative=True)
    specs = [
        NewEntry(
            "voucher.issue",
            [(fund.account, -cents), (voucher_account(voucher_of[child_id]), cents)],
            _meta(fund, voucher_of[child_id], import_run),
            f"voucher.issue:{voucher_of[child_id]}",
        )
        for child_id, cents in grants
        if cents > 0
    ]
    for start in range(0, len(specs), BATCH):
        store.append_many(session, specs[start : start + BATCH])
        if progress:
            progress("budgetten / budgets", min(start + BATCH, len(specs)), len(specs))
    notify.budgets_issued(session, fund, grants)
    if import_run is None:
        record_event(
            session,
            "fund.budgets_issued",
            actor=actor,
            subject=f"fund:{fund.id}",
            tenant_id=fund.municipality_id,
            after={"vouchers": len(voucher_of), "cents": sum(c for _, c in grants)},
        )
    return [voucher_of[child_id] for child_id, _ in grants]


def _meta(fund: Fund, voucher_id: int, import_run: int | None) -> dict[str, int]:
    """Return the metadata hashed with an issue entry."""
    meta = {"fund": fund.id, "voucher": voucher_id}
    if import_run is not None:
        meta["import_run"] = import_run
    return meta


def topup(
    session: Session, fund: Fund, child_ref: str, cents: int, *, actor: str, ip: str | None = None
) -> Appended:
    """Add ``cents`` to the voucher of the child with reference ``child_ref``."""
    if cents <= 0:
        raise DomainError("amount_not_positive", _l("The amount must be more than zero."))
    child = session.execute(
        select(Child).where(Child.fund_id == fund.id, Child.reference == child_ref)
    ).scalar_one_or_none()
    if child is None:
        raise DomainError(
            "unknown_child", _l("There is no child with this reference in this fund.")
        )
    voucher = child.voucher
    if voucher is None or voucher.status != "active":
        raise DomainError("voucher_not_active", _l("This child has no active budget."))
    check_can_issue(session, fund, cents)
    entry = store.append(
        session,
        "voucher.topup",
        [(fund.account, -cents), (voucher.account, cents)],
        meta={"fund": fund.id, "voucher": voucher.id},
    )
    record_event(
        session,
        "voucher.topped_up",
        actor=actor,
        subject=f"voucher:{voucher.id}",
        tenant_id=fund.municipality_id,
        after={"cents": cents, "ledger_seq": entry.seq, "ledger_hash": entry.hash},
        ip=ip,
    )
    return entry


# --------------------------------------------------------------------------- letters


@dataclass(frozen=True)
class LetterBatch:
    """A rendered PDF and the households whose codes were (re-)issued for it."""

    pdf: bytes
    household_ids: list[int]


def activation_url(base_url: str, code: str) -> str:
    """Return the link printed (and put in the QR code) on a letter."""
    return f"{base_url.rstrip('/')}/wallet/activate?code={code}"


def households_needing_letters(
    session: Session, fund: Fund, *, all_households: bool = False
) -> list[Household]:
    """Return households with a budget that have no activated PIN (or all with ``all``)."""
    query = (
        select(Household)
        .where(Household.fund_id == fund.id)
        .where(
            Household.id.in_(select(Child.household_id).join(Voucher, Voucher.child_id == Child.id))
        )
        .order_by(Household.postcode, Household.reference)
    )
    if not all_households:
        query = query.where(Household.pin_hash.is_(None))
    return list(session.execute(query).scalars())


def print_letters(
    session: Session,
    fund: Fund,
    households: Sequence[Household],
    *,
    actor: str,
    base_url: str,
    language: str = "nl",
    ip: str | None = None,
    progress: Progress | None = None,
) -> LetterBatch | None:
    """Issue a fresh activation code per household and render their letters (None if none).

    Each letter is in the household's own language when the import named one, else in
    ``language`` (the run's default).
    Codes are stored only as hashes, so every printed letter carries a new code and the
    household's earlier code stops working.
    """
    from wallet.services import issue_activation_code  # written alongside; imported lazily

    if not households:
        return None
    vouchers = _vouchers_by_household(session, [h.id for h in households])
    left = store.balances(session, (v.account for vs in vouchers.values() for _, v in vs))
    letters = []
    for number, household in enumerate(households, 1):
        if progress is not None and (number % 50 == 0 or number == len(households)):
            progress("brieven / letters", number, len(households))
        code = issue_activation_code(session, household, actor=actor)
        children = [
            letter_pdf.LetterChild(child.first_name, left[voucher.account])
            for child, voucher in vouchers.get(household.id, [])
        ]
        letters.append(_letter(fund, household, code, children, base_url))
    pdf = letter_pdf.render_letters(letters, letter_texts, language=language)
    record_event(
        session,
        "fund.letters_printed",
        actor=actor,
        subject=f"fund:{fund.id}",
        tenant_id=fund.municipality_id,
        after={"households": len(letters), "language": language},
        ip=ip,
    )
    return LetterBatch(pdf, [h.id for h in households])


def _vouchers_by_household(
    session: Session, household_ids: Sequence[int]
) -> dict[int, list[tuple[Child, Voucher]]]:
    """Return each household's children with an active voucher, oldest child first."""
    found: dict[int, list[tuple[Child, Voucher]]] = {}
    for start in range(0, len(household_ids), 500):
        chunk = household_ids[start : start + 500]
        result = session.execute(
            select(Child, Voucher)
            .join(Voucher, Voucher.child_id == Child.id)
            .where(Child.household_id.in_(chunk), Voucher.status == "active")
            .order_by(Child.birth_date, Child.id)
        )
        for child, voucher in result:
            found.setdefault(child.household_id, []).append((child, voucher))
    return found


def _letter(
    fund: Fund,
    household: Household,
    code: str,
    children: list[letter_pdf.LetterChild],
    base_url: str,
) -> letter_pdf.Letter:
    """Assemble one household's letter."""
    return letter_pdf.Letter(
        to=addressee(household, fund),
        activation_code=code.removeprefix("KP-"),  # 16 symbols print as 4 groups of 4
        activation_url=activation_url(base_url, code),
        children=children,
        period_start=fund.period_start,
        period_end=fund.period_end,
    )
