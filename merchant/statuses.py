"""HTTP statuses of the merchant package's error codes (codes not listed here answer 400).

Payments also answer the wallet's token codes with the wallet's statuses.
"""

from __future__ import annotations

from kindpakket.errors import register_statuses

STATUSES = {
    "bad_credentials": 401,
    "account_disabled": 403,
    "bad_password": 403,
    "owner_only": 403,
    "not_a_cashier": 403,
    "merchant_not_approved": 403,
    "shop_suspended": 403,
    "category_not_allowed": 403,
    "not_found": 404,
    "payment_code_invalid": 404,
    "redemption_not_found": 404,
    "voucher_not_found": 404,
    "token_used": 409,
    "voucher_blocked": 409,
    "voucher_expired": 409,
    "fund_closed": 409,
    "insufficient_balance": 409,
    "idempotency_conflict": 409,
    "refund_too_large": 409,
    "pass_invalid": 404,
    "pass_pin_wrong": 401,
    "pass_blocked": 409,
}

register_statuses(STATUSES)
