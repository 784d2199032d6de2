"""Refunds: (part of) a payment back to the family's budget, by the shop that was paid.

Idempotent like payments: the same key with the same content returns the first answer
(byte for byte), the same key with another amount or payment is refused with
``idempotency_conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.money import format_euro
from ledger import store
from merchant.models import Redemption, Refund, Shop, ShopUser, payable_account
from merchant.redemptions import (
    MAX_KEY,
    _check_amount,
    _check_cashier,
    _lock_voucher,
    receipt_number,
)
from merchant.refusals import refusal


@dataclass(frozen=True)
class RefundResult:
    """A refund as the shop sees it."""

    id: int
    redemption_id: int
    receipt_number: str
    amount_cents: int
    refundable_cents: int  # what can still be refunded of the payment
    ledger_seq: int
    entry_hash: str
    created_at: datetime
    replayed: bool = False


REFUND_MESSAGES: dict[str, Any] = {
    "redemption_not_found": _l("There is no such payment in your shop."),
    "refund_too_large": _l("You can refund at most %(left)s of this payment."),
    "reason_required": _l("Give a short reason for the refund."),
    "idempotency_conflict": _l(
        "This refund was already sent with another amount or for another payment. Start again."
    ),
}


def refund(
    session: Session,
    *,
    cashier: ShopUser,
    redemption_id: int,
    amount_cents: int,
    reason: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> RefundResult:
    """Give (part of) a payment back to the voucher; only the shop that was paid may."""
    now = now or datetime.now(UTC)
    _check_cashier(cashier)
    # The shop's row lock orders its refunds: a twin with the same key (on this or another
    # of the shop's payments) waits here and then finds this refund by its key below. The
    # chain lock is taken only by the append, the last write.
    shop = session.execute(
        select(Shop).where(Shop.id == cashier.shop_id).with_for_update()
    ).scalar_one()
    row = session.execute(
        select(Redemption)
        .where(Redemption.id == redemption_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None or row.shop_id != shop.id:
        raise DomainError("redemption_not_found", REFUND_MESSAGES["redemption_not_found"])
    key = (idempotency_key or "").strip()[:MAX_KEY] or None
    if key and (first := _refund_by_key(session, shop.id, key)) is not None:
        return _refund_replay(session, first, row, amount_cents)
    _check_amount(amount_cents)
    left = row.amount_cents - row.refunded_cents
    if amount_cents > left:
        raise DomainError(
            "refund_too_large",
            _l("You can refund at most %(left)s of this payment.", left=format_euro(left)),
            refundable_cents=left,
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", REFUND_MESSAGES["reason_required"])
    voucher = _lock_voucher(session, row.voucher_id)
    if voucher.status == "expired":
        raise refusal("voucher_expired", voucher_id=voucher.id)
    row.refunded_cents += amount_cents
    session.flush()  # before the append: under the chain lock only the entry and its rows

    meta = {  # and "receipt": R- and the entry's seq, made under the chain lock
        "shop": shop.id,
        "shop_name": shop.name,
        "voucher": voucher.id,
        "fund": row.fund_id,
        "redemption": row.id,
    }

    postings = [
        (payable_account(shop.id, row.fund_id), -amount_cents),
        (voucher.account, amount_cents),
    ]
    entry = store.NewEntry("refund", postings, meta, receipt="R")
    appended = store.append_many(session, [entry])[0]
    number = receipt_number("R", appended.seq)
    made = Refund(
        redemption_id=row.id,
        shop_id=shop.id,
        cashier_id=cashier.id,
        amount_cents=amount_cents,
        reason=reason[:300],
        idempotency_key=key or f"auto:{appended.seq}",
        receipt_number=number,
        ledger_seq=appended.seq,
        entry_hash=appended.hash,
        created_at=now.astimezone(UTC),  # as the column reads it back on a replay
    )
    session.add(made)
    session.flush()  # the refund id goes into the audit event and the answer
    record_event(
        session,
        "redemption.refunded",
        actor=f"shop_user:{cashier.id}",
        subject=f"redemption:{row.id}",
        funds=[row.fund_id],
        after={"amount_cents": amount_cents, "receipt": number, "reason": reason[:300]},
    )
    return _refund_result(made, row)


def _refund_by_key(session: Session, shop_id: int, key: str) -> Refund | None:
    """Return the shop's refund made with this idempotency key, if any."""
    return session.execute(
        select(Refund).where(Refund.shop_id == shop_id, Refund.idempotency_key == key).limit(1)
    ).scalar_one_or_none()


def _refund_replay(session: Session, first: Refund, row: Redemption, amount: int) -> RefundResult:
    """Return the first answer of this key; the same key with other content is a conflict."""
    if first.redemption_id != row.id or first.amount_cents != amount:
        raise DomainError("idempotency_conflict", REFUND_MESSAGES["idempotency_conflict"])
    refunded = session.execute(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.redemption_id == row.id, Refund.ledger_seq <= first.ledger_seq
        )
    ).scalar_one()
    return _refund_result(first, row, row.amount_cents - int(refunded), replayed=True)


def _refund_result(
    made: Refund, row: Redemption, refundable: int | None = None, *, replayed: bool = False
) -> RefundResult:
    """Return the shop's view of a refund (``refundable``: what was left right after it)."""
    left = row.amount_cents - row.refunded_cents
    return RefundResult(
        id=made.id,
        redemption_id=row.id,
        receipt_number=made.receipt_number,
        amount_cents=made.amount_cents,
        refundable_cents=left if refundable is None else refundable,
        ledger_seq=made.ledger_seq,
        entry_hash=made.entry_hash,
        created_at=made.created_at,
        replayed=replayed,
    )
