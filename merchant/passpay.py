"""Paying with a printed pass: the pass branch of the one redemption path.

:func:`resolve` turns a scanned pass code and the PIN typed on the shop's PIN pad into the
``(nonce, voucher id)`` every payment starts from; from there the payment is the phone's:
same locks, checks, refusal codes, ledger entry and receipt (merchant.redemptions).

A wrong PIN is counted by :func:`after_refusal`, *after* the attempt was rolled back (the
refusal's own transaction), so the count survives; the third wrong PIN blocks the pass.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from kindpakket.errors import DomainError
from kindpakket.keys import Keyring
from wallet import passes
from wallet.passcode import is_pass_code
from wallet.passmodels import MAX_PIN_FAILURES
from wallet.passpin import pin_ok_at_till

# Shown by the scanner page (English msgids; Dutch in merchant/i18n/nl/h16-pass.po).
MESSAGES: dict[str, Any] = {
    "pass_invalid": _l("This pass is not valid (damaged or forged). Ask for another way to pay."),
    "pass_blocked": _l("Pass blocked — call the municipality."),
    "pin_required": _l("Let the customer type the PIN of the pass."),
    "pass_pin_wrong": _l("Wrong PIN. Let the customer try again."),
}

__all__ = ["MESSAGES", "after_refusal", "is_pass_code", "resolve"]


def _refuse(code: str, **details: Any) -> DomainError:
    return DomainError(code, MESSAGES[code], **details)


def resolve(session: Session, text: str, pin: str | None, keyring: Keyring) -> tuple[str, int]:
    """Return ``(fresh nonce, voucher id)`` for a pass and its PIN, or raise a refusal.

    The nonce is random: a pass code is static, so what makes a payment unique is the
    shop's idempotency key (a repeat with the same key returns the first payment).
    """
    pass_id = passes.pass_id_from_code(text, keyring)
    row = None if pass_id is None else passes.pass_at_till(session, pass_id)
    if row is None:
        raise _refuse("pass_invalid")
    if row.status != "active":
        raise _refuse("pass_blocked")
    if not (pin or "").strip():
        raise _refuse("pin_required")
    if not pin_ok_at_till(session, row, pin or "", keyring):
        left = max(0, MAX_PIN_FAILURES - row.pin_failures - 1)
        if left == 0:
            raise _refuse("pass_blocked", attempts_left=0)
        raise DomainError(
            "pass_pin_wrong",
            _l("Wrong PIN. %(left)s more tries, then the pass is blocked.", left=left),
            attempts_left=left,
        )
    passes.reset_pin_failures(session, row)
    voucher_id = passes.paying_voucher(session, row)
    if voucher_id is None:
        raise DomainError("voucher_not_found", _l("There is no budget on this pass."))
    return secrets.token_hex(12), voucher_id


def after_refusal(
    session: Session, token: str | None, err: DomainError, keyring: Keyring, *, actor: str
) -> None:
    """Count a wrong PIN of a refused pass payment (in the refusal's transaction)."""
    if not is_pass_code(token) or "attempts_left" not in err.details:
        return
    pass_id = passes.pass_id_from_code(token or "", keyring)
    if pass_id is not None:
        passes.record_pin_failure(session, pass_id, actor=actor)
