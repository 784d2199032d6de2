"""CSV exports for Dutch Excel never turn text from public forms into formulas."""

from __future__ import annotations

from admin.reports.exports import Cents, Table
from admin.reports.exports import csv_bytes as admin_csv
from kindpakket.spreadsheet import csv_bytes, safe_cell


def test_text_that_would_run_as_a_formula_is_quoted() -> None:
    assert safe_cell('=HYPERLINK("http://evil.example","klik")') == (
        '\'=HYPERLINK("http://evil.example","klik")'
    )
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+31 6 1234") == "'+31 6 1234"
    assert safe_cell("-12,50") == "-12,50"  # an amount stays a number
    assert safe_cell(-1250) == "-1250"
    assert safe_cell(None) == ""


def test_csv_is_semicolon_separated_with_bom() -> None:
    data = csv_bytes([["Winkel", "Bedrag"], ["=1+1", "12,50"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "Winkel;Bedrag\r\n'=1+1;12,50\r\n"


def test_municipality_report_export_quotes_a_hostile_shop_name() -> None:
    table = Table(
        "shops", "Per winkel", ["Winkel", "Besteed"], [["=cmd|' /C calc'!A0", Cents(1250)]]
    )
    text = admin_csv([table]).decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0;12,50" in text
