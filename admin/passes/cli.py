"""``kindpakket passes FUND --out passes.pdf``: print Kindpakket passes and PIN letters."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin.cli_text import echo, say
from admin.funds.cli import ACTOR, _domain_errors, _fund
from admin.passes import orders as passorders
from kindpakket.appkeys import app_keyring
from kindpakket.db import db
from wallet import passes
from wallet.models import Household


@click.command("passes")
@click.argument("fund_key", metavar="FUND")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--pins",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PDF of the PIN letters (default: OUT with -pincodes added to its name)",
)
@click.option(
    "--layout",
    type=click.Choice(["a4", "card"]),
    default="a4",
    help="a4: ten cards per sheet with cut marks; card: one per page (card printer)",
)
@click.option("--lang", "language", type=click.Choice(["nl", "en"]), default="nl")
@click.option(
    "--household",
    "references",
    multiple=True,
    help="only this household (its reference); may be repeated",
)
@click.option(
    "--per",
    type=click.Choice(["household", "child"]),
    help="change the fund's setting first: one pass per household or per child",
)
@with_appcontext
def passes_command(
    fund_key: str,
    out: Path,
    pins: Path | None,
    layout: str,
    language: str,
    references: tuple[str, ...],
    per: str | None,
) -> None:
    """Issue and print passes for the households of FUND that have no pass yet.

    Households without a wallet PIN get a PIN letter (printed once, in a separate PDF,
    to be sent apart from the pass). Nothing is printed twice: run it again after new
    imports, or with --household for one family.
    """
    pins = pins or out.with_name(f"{out.stem}-pincodes{out.suffix or '.pdf'}")
    with _domain_errors(), db.transaction() as session:
        fund = _fund(session, fund_key)
        if per:
            passes.set_pass_per(session, fund, per, actor=ACTOR)
        ids = None
        if references:
            found = dict(
                session.execute(
                    select(Household.reference, Household.id).where(
                        Household.fund_id == fund.id, Household.reference.in_(references)
                    )
                ).all()
            )
            unknown = sorted(set(references) - set(found))
            if unknown:
                raise click.BadParameter(
                    say(_l("unknown household: %(refs)s", refs=", ".join(unknown))),
                    param_hint="--household",
                )
            ids = list(found.values())
        batch = passorders.print_passes(
            session,
            fund,
            app_keyring(),
            actor=ACTOR,
            household_ids=ids,
            layout=layout,
            language=language,
        )
        if batch is not None:  # written before commit: a failed write rolls back
            out.write_bytes(batch.cards_pdf)
            if batch.pins_pdf is not None:
                pins.write_bytes(batch.pins_pdf)
    if batch is None:
        echo(_l("no passes needed"))
        return
    echo(_l("%(n)s passes -> %(out)s", n=batch.passes, out=out))
    if batch.pins_pdf is not None:
        echo(
            _l(
                "%(n)s PIN letters -> %(out)s (send apart from the passes)",
                n=batch.pin_letters,
                out=pins,
            )
        )


commands: list[click.Command] = [passes_command]
