"""Commands for funds: create, list, deposit, top up, import children, print letters."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.cli_text import cli_language, echo, lang_option, say
from admin.funds import csvimport, import_text, importer, issuance
from admin.funds import services as funds
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.money import format_euro, parse_amount
from merchant.services import CATEGORIES
from wallet.models import Fund, Municipality

ACTOR = "cli"


def _date(value: str, option: str) -> date:
    """Parse a date option (YYYY-MM-DD or DD-MM-YYYY)."""
    day = csvimport.parse_date(value)
    if day is None:
        raise click.BadParameter(say(_l("invalid date: %(value)r", value=value)), param_hint=option)
    return day


def _fail(err: DomainError) -> None:
    """Print a refused use case as "code: message" and exit 2."""
    details = " ".join(f"{k}={v}" for k, v in err.details.items())
    click.echo(f"{err.code}: {say(err.message)} {details}".rstrip(), err=True)
    sys.exit(2)


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Turn a DomainError into CLI output and exit code 2."""
    try:
        yield
    except DomainError as err:
        _fail(err)


def _fund(session: Session, key: str) -> Fund:
    """Return the fund named on the command line or stop with a message."""
    fund = funds.find_fund(session, key)
    if fund is None:
        raise click.BadParameter(say(_l("no fund %(key)r", key=key)), param_hint="FUND")
    return fund


@click.group("fund")
def fund_group() -> None:
    """Funds: a yearly budget per child, its period and shop categories."""


@fund_group.command("create")
@click.option("--municipality", "slug", required=True, help="municipality slug")
@click.option("--name", required=True, help='e.g. "Kindpakket 2027"')
@click.option("--start", required=True, help="first day, YYYY-MM-DD")
@click.option("--end", required=True, help="last day payments are accepted, YYYY-MM-DD")
@click.option("--budget", required=True, help="amount per child, e.g. 300,00")
@click.option("--deposit", default=None, help="money put into the fund now, e.g. 150000,00")
@click.option("--reference-date", default=None, help="ages are taken on this day (default: start)")
@click.option(
    "--categories",
    multiple=True,
    help="shop categories allowed (default: all): " + ", ".join(CATEGORIES),
)
@click.option("--age-band", "age_bands", multiple=True, help="e.g. 0-11:250,00 (repeatable)")
@click.option(
    "--max-age",
    type=click.IntRange(0, funds.MAX_AGE_LIMIT),
    default=17,
    show_default=True,
    help="oldest age on the reference date a child may have to be imported",
)
@click.option("--pro-rata", is_flag=True, help="children added later get a part of the budget")
@click.option("--show-balance-to-shop", is_flag=True, help="shops see the remaining budget")
@lang_option
@with_appcontext
def create(slug: str, **options: Any) -> None:
    """Create a fund and record its deposit in the ledger."""
    with _domain_errors(), db.transaction() as session:
        municipality = session.execute(
            select(Municipality).where(Municipality.slug == slug)
        ).scalar_one_or_none()
        if municipality is None:
            raise click.BadParameter(
                say(_l("no municipality %(slug)r", slug=slug)), param_hint="--municipality"
            )
        fund = funds.create_fund(
            session,
            municipality,
            name=options["name"],
            start=_date(options["start"], "--start"),
            end=_date(options["end"], "--end"),
            budget_cents=parse_amount(options["budget"]),
            deposit_cents=parse_amount(options["deposit"]) if options["deposit"] else 0,
            reference_date=(
                _date(options["reference_date"], "--reference-date")
                if options["reference_date"]
                else None
            ),
            categories=options["categories"],
            age_bands=[funds.parse_age_band(b) for b in options["age_bands"]],
            max_age=options["max_age"],
            pro_rata=options["pro_rata"],
            show_balance_to_shop=options["show_balance_to_shop"],
            actor=ACTOR,
        )
    echo(_l("fund %(id)s created: %(name)s", id=fund.id, name=fund.name))


@fund_group.command("list")
@click.option("--municipality", "slug", default=None, help="only this municipality")
@with_appcontext
def list_funds(slug: str | None) -> None:
    """List funds with households, children, issued and remaining money."""
    with db.transaction() as session:
        query = select(Fund).join(Municipality).order_by(Fund.id)
        if slug:
            query = query.where(Municipality.slug == slug)
        for fund in session.execute(query).scalars():
            o = funds.overview(session, fund)
            click.echo(
                f"{fund.id}\t{fund.municipality.slug}\t{fund.name}\t"
                f"{fund.period_start}..{fund.period_end}\t{fund.status}\t"
                f"households={o.households} children={o.children} "
                f"issued={format_euro(o.issued_cents)} left={format_euro(o.balance_cents)}"
            )


@fund_group.command("deposit")
@click.argument("fund_key", metavar="FUND")
@click.argument("amount")
@lang_option
@with_appcontext
def deposit(fund_key: str, amount: str) -> None:
    """Record money put into FUND (e.g. 25000,00)."""
    with _domain_errors(), db.transaction() as session:
        fund = _fund(session, fund_key)
        cents = parse_amount(amount)
        entry = funds.deposit(session, fund, cents, actor=ACTOR)
    echo(
        _l("deposited %(amount)s (ledger entry %(seq)s)", amount=format_euro(cents), seq=entry.seq)
    )


@fund_group.command("topup")
@click.argument("fund_key", metavar="FUND")
@click.argument("child_ref")
@click.argument("amount")
@lang_option
@with_appcontext
def topup(fund_key: str, child_ref: str, amount: str) -> None:
    """Add AMOUNT to the budget of child CHILD_REF in FUND."""
    with _domain_errors(), db.transaction() as session:
        fund = _fund(session, fund_key)
        entry = issuance.topup(session, fund, child_ref, parse_amount(amount), actor=ACTOR)
    echo(_l("topped up %(child)s (ledger entry %(seq)s)", child=child_ref, seq=entry.seq))


def _progress_printer() -> Callable[[str, int, int], None]:
    """Return a callback that shows progress per phase as a bar on stderr (a terminal).

    Off a terminal (a log, a pipe) click prints the phase's label once instead of a bar.
    """
    bars: dict[str, Any] = {}

    def show(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase)
        if bar is None:
            bar = bars[phase] = click.progressbar(length=total, label=phase, file=sys.stderr)
            bar.render_progress()
        bar.update(done - bar.pos)
        if done >= total:
            bar.render_finish()

    return show


@click.command("import-children")
@click.argument("fund_key", metavar="FUND")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check and show what would change; write nothing")
@lang_option
@with_appcontext
def import_children(fund_key: str, file: Path, dry_run: bool) -> None:
    """Import eligible households and children of FUND from a CSV FILE and issue budgets.

    Columns (Dutch or English header, ; or , separated, UTF-8): huishouden_ref/household_ref,
    naam_ouder/parent_name, adres/address, postcode, woonplaats/city, e_mail/email
    (optional), telefoon/phone (optional), kind_ref/child_ref, voornaam_kind/child_first_name,
    geboortedatum/birth_date (YYYY-MM-DD or DD-MM-YYYY), taal/language (optional: nl, en, tr,
    ar, pl, uk; the household's letters and wallet). One error means nothing is imported.
    """
    data = file.read_bytes()
    with _domain_errors(), db.transaction() as session:
        fund = _fund(session, fund_key)
        summary = importer.import_rows(
            session,
            fund,
            data,
            actor=ACTOR,
            dry_run=dry_run,
            filename=file.name,
            progress=_progress_printer(),
        )
    _print_summary(summary)
    if summary.errors:
        sys.exit(1)


def _print_summary(summary: importer.ImportSummary) -> None:
    """Print errors, or the counts of what was (or would be) imported."""
    for error in summary.errors:
        click.echo(import_text.in_language(error, cli_language()), err=True)
    if summary.errors:
        echo(_l("%(n)s error(s), nothing imported", n=len(summary.errors)), err=True)
        return
    echo(_l("dry run, nothing saved") if summary.dry_run else _l("imported"))
    echo(
        _l(
            "households: %(n)s (%(new)s new, %(updated)s updated)",
            n=summary.households,
            new=summary.households_new,
            updated=summary.households_updated,
        )
    )
    echo(
        _l(
            "children: %(n)s (%(new)s new, %(updated)s updated)",
            n=summary.children,
            new=summary.children_new,
            updated=summary.children_updated,
        )
    )
    echo(_l("budget issued: %(amount)s", amount=format_euro(summary.issued_cents)))
    if summary.children_missing:
        echo(
            _l(
                "missing from this file (%(n)s): %(refs)s",
                n=len(summary.children_missing),
                refs=", ".join(summary.children_missing[:50]),
            )
        )


@click.command("letters")
@click.argument("fund_key", metavar="FUND")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", "language", type=click.Choice(["nl", "en"]), default="nl")
@click.option(
    "--all",
    "all_households",
    is_flag=True,
    help="also households that already activated (their code is replaced)",
)
@with_appcontext
def letters(fund_key: str, out: Path, language: str, all_households: bool) -> None:
    """Print activation letters of FUND as one PDF, one page per household.

    Codes are stored only as hashes, so printing issues a NEW code for every household in
    the PDF; its earlier code stops working. By default only households without an
    activated PIN get a letter; --all re-issues codes for every household.
    """
    with _domain_errors(), db.transaction() as session:
        fund = _fund(session, fund_key)
        households = issuance.households_needing_letters(
            session, fund, all_households=all_households
        )
        batch = issuance.print_letters(
            session,
            fund,
            households,
            actor=ACTOR,
            base_url=current_app.config["BASE_URL"],
            language=language,
            progress=_progress_printer(),
        )
        if batch is not None:
            out.write_bytes(batch.pdf)  # written before commit: a failed write rolls back
    if batch is None:
        echo(_l("no letters needed"))
        return
    echo(_l("%(n)s letters -> %(out)s (new codes issued)", n=len(batch.household_ids), out=out))


commands: list[click.Command] = [fund_group, import_children, letters]
