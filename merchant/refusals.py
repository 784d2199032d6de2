"""Refused payments: the fixed codes with their plain words, and the log of refusals.

Split from ``merchant/redemptions.py`` (the payments): a refusal is raised there and in
``merchant/refunds.py``, and recorded here in the request's own transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from kindpakket.errors import DomainError
from kindpakket.inputs import BIGINT_MAX, BIGINT_MIN
from merchant.models import Refusal, ShopUser

# Every refusal says what to do next. English msgids; Dutch in merchant/i18n/nl/merchant.po.
MESSAGES: dict[str, Any] = {
    "not_a_token": _l("This is not a Kindpakket code. Ask the family to open the payment code."),
    "bad_version": _l("This code is from an older version. Ask the family to refresh the page."),
    "unknown_key": _l("This code is not valid (unknown key). Ask the family for a fresh code."),
    "bad_signature": _l("This code is not valid (forged or damaged). Ask for a fresh code."),
    "token_expired": _l("This code has expired. Ask the family to show a fresh code."),
    "token_not_yet_valid": _l("This code is not valid yet. Check the clock of this device."),
    "token_used": _l("This code has already been used. Ask the family to show a fresh code."),
    "voucher_not_found": _l("There is no budget for this code. Ask the family for a fresh code."),
    "payment_code_unknown": _l("This payment code does not exist. Check the digits and try again."),
    # One answer for typed codes that are unknown, used or expired: guessing learns nothing.
    "payment_code_invalid": _l(
        "This payment code is not valid. Check the digits, or ask the family for a fresh code."
    ),
    "voucher_blocked": _l("This budget is blocked. The family can unblock it in the wallet."),
    "voucher_expired": _l("This budget has expired and can no longer be used."),
    "fund_closed": _l("This fund is closed today: no payments are possible."),
    "merchant_not_approved": _l(
        "Your shop is not approved for this fund. Contact the municipality."
    ),
    "shop_suspended": _l("Your shop is suspended for this fund. Contact the municipality."),
    "category_not_allowed": _l("This budget cannot be spent in this kind of shop."),
    "insufficient_balance": _l("Not enough budget for this amount. Enter a lower amount."),
    "amount_not_positive": _l("The amount must be more than zero."),
    "invalid_amount": _l("Type an amount like 12,50."),
    "amount_too_large": _l("That amount is too large."),
    "not_a_cashier": _l("Log in as staff of this shop to take payments."),
    "idempotency_conflict": _l("This request was already sent with another amount. Start again."),
    "missing_code": _l("Scan the QR code or type the payment code."),
    "bad_idempotency_key": _l("The page sent no request key. Reload the page and try again."),
}


class Refused(DomainError):
    """A refused payment; ``voucher_id`` (when the code was readable) is kept for the log."""

    voucher_id: int | None = None


def refusal(code: str, *, voucher_id: int | None = None, **details: Any) -> Refused:
    """Return the refusal for ``code`` with its plain message."""
    err = Refused(code, MESSAGES[code], **details)
    err.voucher_id = voucher_id
    return err


def record_refusal(
    session: Session,
    cashier: ShopUser | None,
    err: DomainError,
    *,
    amount_cents: int | None,
    shop_id: int | None = None,
) -> Refusal | None:
    """Record a refused payment with its code (in a transaction the caller commits)."""
    shop = shop_id if shop_id is not None else (cashier.shop_id if cashier else None)
    if shop is None:
        return None
    row = Refusal(
        shop_id=shop,
        cashier_id=cashier.id if cashier else None,
        code=err.code[:40],
        voucher_id=getattr(err, "voucher_id", None),
        amount_cents=amount_cents if _storable(amount_cents) else None,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    return row


def _storable(amount: Any) -> bool:
    """Return True for an amount the refusal log can hold (a BIGINT; 2**63 is refused too)."""
    return type(amount) is int and BIGINT_MIN <= amount <= BIGINT_MAX
