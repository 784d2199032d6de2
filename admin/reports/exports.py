"""Tables to CSV (semicolon, UTF-8 BOM, decimal comma: Dutch Excel opens it) and XLSX."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import xlsxwriter

from kindpakket import spreadsheet
from kindpakket.money import euros_text


@dataclass(frozen=True)
class Cents:
    """A money cell: integer cents, written as euros."""

    value: int


@dataclass(frozen=True)
class Permille:
    """A share in tenths of a percent, written as a percentage."""

    value: int


Cell = str | int | Cents | Permille | date | datetime | None


@dataclass(frozen=True)
class Table:
    """A titled table with a header row; ``key`` names it in URLs and file names."""

    key: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)


def _csv_cell(cell: Cell, decimal: str) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Cents):
        return euros_text(cell.value, decimal)
    if isinstance(cell, Permille):
        whole, tenth = divmod(cell.value, 10)
        return f"{whole}{decimal}{tenth}%"
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def csv_bytes(tables: Sequence[Table], *, decimal: str = ",") -> bytes:
    """Return the tables as one CSV file; several tables are separated by a title line."""
    rows: list[Sequence[object]] = []
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                rows.append([])
            rows.append([table.title])
        rows.append(table.headers)
        rows.extend([_csv_cell(c, decimal) for c in row] for row in table.rows)
    return spreadsheet.csv_bytes(rows)


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """Return the tables as an XLSX workbook, one sheet per table."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    share = book.add_format({"num_format": "0.0%"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    used: set[str] = set()
    for table in tables:
        sheet = book.add_worksheet(_sheet_name(table.key, used))
        sheet.write_row(0, 0, list(table.headers), bold)
        for r, row in enumerate(table.rows, start=1):
            for c, cell in enumerate(row):
                if isinstance(cell, Cents):
                    # Excel stores numbers as doubles; cents/100 is exact to the cent here.
                    sheet.write_number(r, c, cell.value / 100, money)
                elif isinstance(cell, Permille):
                    sheet.write_number(r, c, cell.value / 1000, share)
                elif isinstance(cell, datetime):
                    sheet.write_string(r, c, _csv_cell(cell, "."))
                elif isinstance(cell, date):
                    sheet.write_datetime(r, c, datetime(cell.year, cell.month, cell.day), day)
                elif isinstance(cell, int) and not isinstance(cell, bool):
                    sheet.write_number(r, c, cell)
                elif cell is not None:
                    sheet.write_string(r, c, str(cell))
        sheet.set_column(0, max(0, len(table.headers) - 1), 18)
    book.close()
    return buffer.getvalue()


def _sheet_name(key: str, used: set[str]) -> str:
    """Return a unique sheet name of at most 31 characters."""
    name = "".join(ch for ch in key if ch not in "[]:*?/\\")[:31] or "sheet"
    candidate, n = name, 2
    while candidate in used:
        candidate = f"{name[:28]}-{n}"
        n += 1
    used.add(candidate)
    return candidate
