"""CSV for Dutch Excel: semicolons, CRLF, UTF-8 with BOM, and no cell run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Return ``value`` as text; text that a spreadsheet would run as a formula gets a quote.

    Numbers stay as they are ("-12,50" is an amount, not a formula); shop and cashier names
    come from public forms and must never become formulas in the municipality's Excel.
    """
    text = "" if value is None else str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    return text.lstrip("+-").replace(",", "").replace(".", "").isdigit()


def csv_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    """Return ``rows`` as CSV that Dutch Excel opens as it is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
