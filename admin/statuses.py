"""HTTP statuses of the municipality's error codes (codes not listed here answer 400).

A SEPA file that fails its check when it is exported (not when it is made) is our fault,
whatever its code: ``settlement.export_file`` raises it as a ``ServerFault`` (500).
"""

from __future__ import annotations

from kindpakket.errors import register_statuses

STATUSES = {
    "bad_credentials": 401,
    "totp_required": 401,
    "bad_totp": 401,
    "account_disabled": 403,
    "bad_password": 403,
    "not_found": 404,
    "shop_not_found": 404,
    "unknown_child": 404,
    "bad_export": 404,
    "fund_closed": 409,
    "fund_balance_too_low": 409,
    "voucher_not_active": 409,
    "no_municipality_iban": 409,
    "nothing_to_pay": 409,
    "bad_batch_state": 409,
    "batch_cancelled": 409,
    "bank_rejection_required": 409,
    "no_such_line": 404,
    "already_resolved": 409,
}

register_statuses(STATUSES)
