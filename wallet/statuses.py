"""HTTP statuses of the wallet's error codes (codes not listed here answer 400)."""

from __future__ import annotations

from kindpakket.errors import register_statuses

STATUSES = {
    "code_unknown": 401,
    "pin_wrong": 401,
    "session_not_found": 404,
    "voucher_not_found": 404,
    "payment_code_unknown": 404,
    "already_activated": 409,
    "not_activated": 409,
    "voucher_not_active": 409,
    "voucher_blocked": 409,
    "token_used": 409,
    "pin_locked": 429,
    "payment_code_busy": 503,
    "pass_or_pin_wrong": 401,
    "pass_not_found": 404,
    "pass_blocked": 409,
    "pass_not_active": 409,
    "pass_requested": 409,
    "link_invalid": 404,
}

register_statuses(STATUSES)
