"""Words for the CSV import's errors: :mod:`admin.csvimport` gives codes, this says them.

English msgids; the Dutch texts are in admin/i18n/nl/h14-shape2.po. ``{placeholders}`` come
from ``RowError.params``. Texts are in the language in force (the request's, or
``flask_babel.force_locale``'s; the CLI renders them in its ``--lang``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.funds.csvimport import RowError, column_name
from kindpakket.i18n import current_language

MESSAGES: dict[str, Any] = {
    "not_utf8": _l(
        "the file cannot be read as text; in Excel choose "
        "Save As \u2192 CSV UTF-8 (Comma delimited)"
    ),
    "mixed_separator": _l(
        "this line is separated by {found} while the header uses {expected}; "
        "use one separator in the whole file"
    ),
    "too_old": _l("the child is {age} on {ref}; this fund is for children up to {max}"),
    "empty_file": _l("the file has no rows"),
    "unknown_column": _l("unknown column {name!r}"),
    "duplicate_column": _l("column appears twice"),
    "missing_column": _l("required column is missing"),
    "field_count": _l("{found} fields, expected {expected}"),
    "missing_field": _l("required field is empty"),
    "too_long": _l("longer than {max} characters"),
    "invalid_date": _l("invalid date (use YYYY-MM-DD or DD-MM-YYYY)"),
    "born_after_reference_date": _l("child born after the reference date {ref}"),
    "invalid_email": _l("invalid e-mail address"),
    "invalid_phone": _l("invalid phone number"),
    "unknown_language": _l("unknown language {value!r}; use one of {allowed} (or leave it empty)"),
    "duplicate_child": _l("child {ref!r} is already on line {first}"),
    "household_conflict": _l("differs from line {first} of the same household"),
    "child_in_other_household": _l(
        "child {ref!r} belongs to household {known!r}; moving is not supported"
    ),
    "fund_balance_too_low": _l("the fund holds {available}; this import needs {needed}"),
    "fund_closed": _l("the fund is closed"),
}


def message(error: RowError) -> str:
    """Return the reason alone, in the language in force."""
    return str(MESSAGES[error.code]).format(**error.params)


def text(error: RowError) -> str:
    """Return "regel 4, kolom geboortedatum: ongeldige datum" (or English)."""
    where: list[str] = []
    if error.line is not None:
        where.append(_("line {line}").format(line=error.line))
    if error.column is not None:
        name = column_name(error.column, current_language())
        where.append(_("column {name}").format(name=name))
    prefix = ", ".join(where)
    return f"{prefix}: {message(error)}" if prefix else message(error)


def in_language(error: RowError, language: str) -> str:
    """Return ``text(error)`` in ``language`` ("nl" or "en")."""
    with force_locale(language):
        return text(error)
