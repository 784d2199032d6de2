"""Commands for settlement, bank files and closing funds (added to ``kindpakket`` by the shell)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin.cli_text import echo, lang_option, say
from admin.funds import closing
from admin.models import SettlementBatch
from admin.settlement import services as settlement
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.money import format_euro
from wallet.models import Fund

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _fund(session: Session, key: str) -> Fund:
    """Return the fund with this id or stop."""
    fund = session.get(Fund, int(key)) if key.strip().isdigit() else None
    if fund is None:
        raise click.BadParameter(say(_l("no fund %(key)r", key=key)), param_hint="FUND")
    return fund


def _batch(session: Session, key: int) -> SettlementBatch:
    """Return the batch with this id or stop."""
    batch = session.get(SettlementBatch, key)
    if batch is None:
        raise click.BadParameter(say(_l("no batch %(key)s", key=key)), param_hint="BATCH")
    return batch


def _fail(err: DomainError) -> None:
    """Print a refusal with its code and stop with exit code 2."""
    click.echo(f"{err.code}: {err.message}", err=True)
    for item in err.details.get("skipped", []):
        click.echo(f"  {item['code']}: {item['name']} ({format_euro(item['cents'])})", err=True)
    sys.exit(2)


def _write(data: bytes, output: str) -> None:
    """Write bytes to a file, or to standard output for "-"."""
    if output == "-":
        click.echo(data.decode("utf-8-sig"), nl=False)
    else:
        Path(output).write_bytes(data)
        click.echo(f"{output} ({len(data)} bytes)", err=True)


@click.command("settle")
@click.argument("fund_key", metavar="FUND")
@click.option("--until", type=DATE, required=True, help="pay payments up to this day")
@click.option("--execution-date", type=DATE, help="day the bank pays (default today)")
@click.option("--version", type=click.Choice(["03", "09"]), default="03", help="pain.001.001.xx")
@with_appcontext
def settle(fund_key: str, until: Any, execution_date: Any, version: str) -> None:
    """Pay the shops of a fund: payout entries and a SEPA file (state draft)."""
    try:
        with db.transaction() as session:
            fund = _fund(session, fund_key)
            batch = settlement.settle(
                session,
                fund,
                until=until.date(),
                execution_date=execution_date.date() if execution_date else None,
                version=version,
                actor="cli",
            )
            settlement.checkpoint(
                session, current_app.config["KEY_DIR"], current_app.config["LEDGER_ORIGIN"]
            )
            lines = [
                f"batch {batch.id}: {batch.payout_count} shops, {format_euro(batch.total_cents)}"
            ]
            if execution_date and batch.execution_date != execution_date.date():
                lines.append(
                    f"execution date moved to {batch.execution_date:%A %d %B %Y}"
                    " (the next TARGET2 business day)"
                )
            lines += [
                f"  skipped {s['code']}: {s['name']} ({format_euro(s['cents'])})"
                for s in batch.skipped
            ]
    except DomainError as err:
        _fail(err)
    click.echo("\n".join(lines))
    click.echo(f"next: kindpakket settle-export {batch.id} -o batch-{batch.id}.xml")


@click.command("settle-export")
@click.argument("batch_id", type=int)
@click.option("-o", "--output", default="-", help="file to write (default: standard output)")
@with_appcontext
def settle_export(batch_id: int, output: str) -> None:
    """Write a batch's SEPA file (a draft becomes exported)."""
    try:
        with db.transaction() as session:
            data = settlement.export_file(session, _batch(session, batch_id), actor="cli")
    except DomainError as err:
        _fail(err)
    _write(data, output)


@click.command("confirm-batch")
@click.argument("batch_id", type=int)
@click.option("--reason", required=True, help="how you know the bank paid (e.g. a statement)")
@with_appcontext
def confirm_batch(batch_id: int, reason: str) -> None:
    """Record by hand, with a reason, that the bank has paid an exported batch."""
    try:
        with db.transaction() as session:
            settlement.confirm(session, _batch(session, batch_id), actor="cli", reason=reason)
    except DomainError as err:
        _fail(err)
    click.echo(f"batch {batch_id}: confirmed")


@click.command("cancel-batch")
@click.argument("batch_id", type=int)
@click.option(
    "--bank-rejection",
    default=None,
    help="the bank's rejection (reference or note); required for an exported batch",
)
@with_appcontext
def cancel_batch(batch_id: int, bank_rejection: str | None) -> None:
    """Cancel a batch; the money goes back to the shops (exported: with the bank's rejection)."""
    try:
        with db.transaction() as session:
            batch = _batch(session, batch_id)
            settlement.cancel(session, batch, actor="cli", bank_rejection=bank_rejection)
    except DomainError as err:
        _fail(err)
    click.echo(f"batch {batch_id}: cancelled")


@click.command("close-fund")
@click.argument("fund_key", metavar="FUND", required=False)
@click.option("--due", is_flag=True, help="close every open fund whose period has ended")
@with_appcontext
def close_fund(fund_key: str | None, due: bool) -> None:
    """Close a fund: remaining budgets go back to the fund, vouchers expire."""
    if bool(fund_key) == due:
        raise click.UsageError("give FUND or --due")
    try:
        with db.transaction() as session:
            funds = closing.due_funds(session) if due else [_fund(session, fund_key or "")]
            done = [(f.id, closing.close_fund(session, f, actor="cli")) for f in funds]
    except DomainError as err:
        _fail(err)
    for fund_id, cents in done:
        click.echo(f"fund {fund_id} closed, {format_euro(cents)} back to the fund")


@click.command("extend-fund")
@click.argument("fund_key", metavar="FUND")
@click.option("--until", type=DATE, required=True, help="the new last day of the fund")
@with_appcontext
def extend_fund(fund_key: str, until: Any) -> None:
    """Move an open fund's last day later."""
    new_end: date = until.date()
    try:
        with db.transaction() as session:
            closing.extend_fund(session, _fund(session, fund_key), new_end, actor="cli")
    except DomainError as err:
        _fail(err)
    click.echo(f"fund {fund_key} runs until {new_end.isoformat()}")


commands: list[click.Command] = [
    settle,
    settle_export,
    confirm_batch,
    cancel_batch,
    close_fund,
    extend_fund,
]


@click.group("bank")
def bank_group() -> None:
    """Files from the bank: status reports (pain.002) and statements (camt.053/054)."""


@bank_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--municipality", "slug", required=True, help="municipality slug")
@lang_option
@with_appcontext
def bank_import(path: str, slug: str) -> None:
    """Import a pain.002 or camt.053/054 file: book, confirm and return payouts."""
    from sqlalchemy import select

    from admin.settlement import bankimport
    from wallet.models import Municipality

    data = Path(path).read_bytes()
    try:
        with db.transaction() as session:
            m = session.execute(
                select(Municipality).where(Municipality.slug == slug)
            ).scalar_one_or_none()
            if m is None:
                raise click.BadParameter(
                    say(_l("no municipality %(slug)r", slug=slug)), param_hint="--municipality"
                )
            record, new = bankimport.import_file(
                session, m, data, filename=Path(path).name, actor="cli"
            )
            summary = dict(record.summary)
    except DomainError as err:
        _fail(err)
    if not new:
        echo(_l("file already imported (%(id)s): nothing changed", id=record.id))
        return
    click.echo(
        f"bank file {record.id} ({record.schema}): "
        + ", ".join(f"{k} {v}" for k, v in summary.items())
    )


commands.append(bank_group)
