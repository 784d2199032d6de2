"""Why the bank rejected or returned a transfer: ISO 20022 reason codes in plain words."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

REASONS: dict[str, Any] = {
    "AC01": _l("The account number (IBAN) is wrong."),
    "AC04": _l("The account has been closed."),
    "AC06": _l("The account is blocked."),
    "AC13": _l("The account type cannot receive this."),
    "AG01": _l("The bank does not allow this payment on this account."),
    "AG02": _l("The bank does not know this payment type."),
    "AM04": _l("The municipality's account did not hold enough money."),
    "AM05": _l("This payment is a duplicate."),
    "BE04": _l("The receiver's address is missing."),
    "CNOR": _l("The shop's bank cannot be reached."),
    "DNOR": _l("The municipality's bank cannot be reached."),
    "FF01": _l("The file had an error."),
    "MD07": _l("The account holder has died."),
    "MS02": _l("The shop refused the payment."),
    "MS03": _l("The bank gave no reason."),
    "NARR": _l("The bank gave a reason in words."),
    "RC01": _l("The BIC code is wrong."),
    "RR01": _l("The account holder's details are missing."),
    "RR03": _l("The shop's name or address is missing."),
    "RR04": _l("Refused for legal reasons."),
}


def reason_text(code: str | None) -> Any:
    """Return the plain-language reason for an ISO code (unknown codes are named as they are)."""
    if code and code in REASONS:
        return REASONS[code]
    return _l("The bank gave code %(code)s.", code=code or "?")
