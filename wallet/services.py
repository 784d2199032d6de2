"""Use cases of the family side; the stable entry points other packages call live here.

Activation codes, PINs and device sessions are in :mod:`wallet.activation`; payment tokens
and codes in :mod:`wallet.payments`; both are re-exported here. This module adds what a
family sees: budgets, history (read from the ledger), and blocking a voucher.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.receipts import verify_url
from ledger import store
from ledger.encoding import decode
from ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from wallet import contact
from wallet.activation import (
    PinPolicy,
    activate,
    active_session,
    check_pin,
    check_pin_rules,
    code_hash,
    format_code,
    household_by_code,
    issue_activation_code,
    list_sessions,
    login,
    new_activation_code,
    normalise_code,
    open_session,
    revoke_all_sessions,
    revoke_session,
)
from wallet.models import Child, Household, Voucher
from wallet.payments import (
    PaymentQR,
    issue_payment,
    resolve_payment_code,
    token_error,
    verify_payment_token,
)

__all__ = [
    "PaymentQR",
    "PinPolicy",
    "activate",
    "active_session",
    "block_voucher",
    "check_pin",
    "check_pin_rules",
    "code_hash",
    "format_code",
    "history",
    "household_by_code",
    "household_voucher",
    "household_vouchers",
    "issue_activation_code",
    "issue_payment",
    "list_sessions",
    "login",
    "new_activation_code",
    "normalise_code",
    "open_session",
    "resolve_payment_code",
    "revoke_all_sessions",
    "revoke_session",
    "token_error",
    "unblock_voucher",
    "verify_payment_token",
    "voucher_view",
]

HISTORY_KINDS = ("redemption", "refund")


def household_vouchers(session: Session, household: Household) -> list[Voucher]:
    """Return the vouchers of the household's children, oldest child first."""
    return list(
        session.execute(
            select(Voucher)
            .join(Child, Child.id == Voucher.child_id)
            .where(Child.household_id == household.id)
            .order_by(Child.birth_date, Child.id)
        ).scalars()
    )


def household_voucher(session: Session, household: Household, voucher_id: int) -> Voucher:
    """Return the voucher if it belongs to this household; otherwise 404 (never reveal others)."""
    voucher = session.get(Voucher, voucher_id)
    if voucher is None or voucher.child.household_id != household.id:
        raise DomainError("voucher_not_found", _l("This budget was not found."))
    return voucher


def voucher_view(session: Session, voucher: Voucher) -> dict[str, Any]:
    """Return what the wallet shows of one child's budget: balance, period, status."""
    fund = voucher.fund
    return {
        "voucher_id": voucher.id,
        "child_first_name": voucher.child.first_name,
        "balance_cents": store.balance(session, voucher.account),
        "status": voucher.status,
        "fund_id": fund.id,
        "fund_name": fund.name,
        "fund_status": fund.status,
        "period_start": fund.period_start,
        "period_end": fund.period_end,
    }


def history(
    session: Session,
    household: Household,
    receipt_url: Callable[[int, str], str] = verify_url,
) -> list[dict[str, Any]]:
    """Return the payments and refunds of the household's vouchers, newest first.

    Read from the ledger (kinds ``redemption`` and ``refund``); the entry meta names the shop
    and the receipt, so no merchant table is needed. ``receipt_url(seq, hash)`` makes each
    receipt link: the pages pass the family's own (``wallet.parties.family_receipt_link``),
    which shows amount, shop and time; the default is the public one (hash and proof only).
    """
    vouchers = {v.account: v for v in household_vouchers(session, household)}
    if not vouchers:
        return []
    rows = session.execute(
        select(LedgerEntry.seq, LedgerEntry.hash, LedgerEntry.body, LedgerAccount.name)
        .join(LedgerPosting, LedgerPosting.seq == LedgerEntry.seq)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.name.in_(list(vouchers)), LedgerEntry.kind.in_(HISTORY_KINDS))
        .order_by(LedgerEntry.seq.desc())
    ).all()
    items = []
    for seq, entry_hash, body, account in rows:
        entry = decode(bytes(body))
        voucher = vouchers[str(account)]
        amount = sum(int(p[1]) for p in entry.postings if p[0] == account)
        meta = entry.meta
        items.append(
            {
                "ledger_seq": int(seq),
                "entry_hash": str(entry_hash),
                "kind": entry.kind,
                "voucher_id": voucher.id,
                "child_first_name": voucher.child.first_name,
                "shop_id": meta.get("shop"),
                "shop_name": str(meta.get("shop_name") or ""),
                "receipt": str(meta.get("receipt") or ""),
                "amount_cents": amount,  # negative for a payment, positive for a refund
                "at": _parse_timestamp(entry.timestamp),
                "receipt_url": receipt_url(int(seq), str(entry_hash)),
            }
        )
    return items


def _parse_timestamp(text: str) -> datetime:
    """Parse the ledger's ``2026-11-23T12:00:00.000000Z`` timestamps."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def block_voucher(session: Session, household: Household, voucher: Voucher, *, actor: str) -> None:
    """Block a child's budget (e.g. a lost phone): no new codes, shops refuse payments."""
    if voucher.child.household_id != household.id:
        raise DomainError("voucher_not_found", _l("This budget was not found."))
    if voucher.status == "blocked":
        return
    if voucher.status != "active":
        raise DomainError("voucher_not_active", _l("This budget can no longer be used."))
    voucher.status = "blocked"
    record_event(
        session,
        "voucher.blocked",
        actor=actor,
        subject=f"voucher:{voucher.id}",
        tenant_id=voucher.fund.municipality_id,
        before={"status": "active"},
        after={"status": "blocked"},
    )
    contact.notify(session, household, "family.voucher_blocked", _notice(voucher))


def unblock_voucher(
    session: Session,
    household: Household,
    voucher: Voucher,
    pin: str,
    *,
    actor: str,
    policy: PinPolicy = PinPolicy(),
    now: datetime | None = None,
) -> None:
    """Unblock a child's budget after checking the PIN (wrong PINs count towards the lockout)."""
    if voucher.child.household_id != household.id:
        raise DomainError("voucher_not_found", _l("This budget was not found."))
    check_pin(session, household, pin, now=now, policy=policy)
    if voucher.status != "blocked":
        return
    voucher.status = "active"
    record_event(
        session,
        "voucher.unblocked",
        actor=actor,
        subject=f"voucher:{voucher.id}",
        tenant_id=voucher.fund.municipality_id,
        before={"status": "blocked"},
        after={"status": "active"},
    )
    contact.notify(session, household, "family.voucher_unblocked", _notice(voucher))


def _notice(voucher: Voucher) -> dict[str, Any]:
    """Return the parameters of a blocked/unblocked notice."""
    return {
        "child": voucher.child.first_name,
        "fund": voucher.fund.name,
        "url": contact.wallet_url(),
    }
