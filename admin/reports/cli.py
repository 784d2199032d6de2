"""The report command (added to ``kindpakket`` by the shell), and the public figures' register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from admin.reports import checkpointfigures, exports
from admin.reports import services as reports
from admin.settlement.cli import DATE, _fund, _write
from kindpakket.db import db, private_file, read_only


@click.command("report")
@click.argument("fund_key", metavar="FUND")
@click.option("--from", "start", type=DATE, help="first day (default: start of the fund)")
@click.option("--to", "end", type=DATE, help="last day (default: today or the fund's end)")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--table", type=click.Choice(reports.TABLE_KEYS), help="only this table")
@click.option("-o", "--output", default="-", help="file to write (default: standard output)")
@with_appcontext
def report(fund_key: str, start: Any, end: Any, fmt: str, table: str | None, output: str) -> None:
    """Export a fund's report as CSV (semicolon, BOM) or XLSX."""
    if fmt == "xlsx" and output == "-":
        raise click.BadParameter("XLSX needs --output FILE", param_hint="--output")
    with read_only(), db.transaction() as session:
        fund = _fund(session, fund_key)
        first, last = reports.default_period(fund)
        result = reports.fund_report(
            session, fund, start.date() if start else first, end.date() if end else last
        )
    tables = [t for t in reports.report_tables(result) if table in (None, t.key)]
    _write(exports.csv_bytes(tables) if fmt == "csv" else exports.xlsx_bytes(tables), output)


@click.command("public-register")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def public_register(output: Path) -> None:
    """Write the register the public figures use: shop categories, budgets' households.

    For ``kindpakket ledger public-figures --register``; hand it over with the export (it
    says which children's budgets are siblings), do not publish it.
    """
    with read_only(), db.transaction() as session:
        found = checkpointfigures.register(session)
    private_file(output)
    output.write_text(json.dumps(found.to_json(), separators=(",", ":")) + "\n", "utf-8")
    click.echo(
        f"registratie / register: {len(found.shop_categories)} winkels / shops, "
        f"{len(found.voucher_households)} budgetten / budgets -> {output}"
    )


commands: list[click.Command] = [report]
