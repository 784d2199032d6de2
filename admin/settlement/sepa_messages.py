"""Words for refused SEPA files: :mod:`admin.sepa` raises codes, this says them.

English msgids; the Dutch texts are in admin/i18n/nl/h14-shape2.po. ``{placeholders}`` come
from ``SepaError.params``; the text is made when shown, in the language then in force.
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.settlement.sepa import SepaError

_IDENTIFIER = _l(
    "'{value}' is not a valid SEPA identifier (1-35 chars, A-Z 0-9 / - ? : ( ) . , ' +)."
)
MESSAGES: dict[str, Any] = {
    "invalid_amount": _l("Amount '{text}' is not of the form 12.50."),
    "empty_batch": _l("There are no payments to put in the file."),
    "execution_date_in_past": _l("The execution date {date} is in the past."),
    "invalid_xml": _l("The file is not well-formed XML: {reason}"),
    "schema_invalid": _l("The file does not match the XSD schema ({line})."),
    "unsupported_version": _l("Version '{version}' is not supported; choose 03 or 09."),
    "invalid_message_id": _IDENTIFIER,
    "invalid_end_to_end_id": _IDENTIFIER,
    "invalid_iban": _l("The IBAN '{value}' of {owner} is invalid ({reason})."),
    "invalid_bic": _l("The BIC '{value}' of {owner} is invalid ({reason})."),
    "invalid_name": _l("The name of {owner} is empty or has no usable characters."),
    "duplicate_end_to_end_id": _l("The reference '{ref}' occurs twice."),
    "remittance_too_long": _l("The description for {who} is longer than {max} characters."),
    "amount_not_integer": _l("The amount for {who} is not a whole number of cents."),
    "amount_not_positive": _l("The amount for {who} must be greater than zero."),
    "amount_too_large": _l("The amount for {who} is higher than SEPA allows."),
    "control_sum_mismatch": _l(
        "Count or control sum does not match ({found}, expected {expected})."
    ),
    "amount_mismatch": _l("The amounts in the file differ from the requested payments."),
}


def text(err: SepaError) -> str:
    """Return the refusal in the language in force."""
    params = dict(err.params)
    if params.pop("payer", False):
        params["owner"] = _("the payer '{name}'").format(name=params["owner"])
    return str(MESSAGES[err.code]).format(**params)


def message(err: SepaError) -> LazyString:
    """Return the refusal as a text made when shown (for a DomainError)."""
    return LazyString(text, err)
