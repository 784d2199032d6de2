"""Command-line commands of the municipality side (added to ``kindpakket`` by the shell)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin import auth
from admin.cli_text import echo, lang_option, say
from kindpakket.audit import record_event
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.iban import compact_iban
from wallet.models import Municipality


@click.group("admin")
def admin_group() -> None:
    """Municipalities and their staff."""


@admin_group.command("create-municipality")
@click.option("--slug", required=True, help="short name, e.g. westerkwartier")
@click.option("--name", required=True, help='e.g. "Gemeente Westerkwartier"')
@click.option("--iban", default=None, help="account the payouts to shops are paid from")
@click.option("--bic", default=None)
@lang_option
@with_appcontext
def create_municipality(slug: str, name: str, iban: str | None, bic: str | None) -> None:
    """Create a municipality (a tenant)."""
    if iban:
        try:
            iban = compact_iban(iban)
        except ValueError as exc:
            raise click.BadParameter(say(_l("invalid IBAN: %(error)s", error=exc))) from None
    with db.transaction() as session:
        if session.execute(select(Municipality.id).where(Municipality.slug == slug)).first():
            raise click.BadParameter(
                say(_l("%(slug)r already exists", slug=slug)), param_hint="--slug"
            )
        m = Municipality(name=name, slug=slug, iban=iban, bic=bic, created_at=datetime.now(UTC))
        session.add(m)
        session.flush()  # the id scopes the audit event
        record_event(
            session,
            "municipality.created",
            actor="cli",
            subject=f"municipality:{m.id}",
            tenant_id=m.id,
            after={"slug": slug, "name": name, "iban": iban, "bic": bic},
        )
    echo(_l("municipality %(slug)s created", slug=slug))


@admin_group.command("create-user")
@click.option("--municipality", "slug", required=True, help="municipality slug")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["administrator", "finance", "viewer"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--totp/--no-totp", default=False, help="require a second factor (TOTP)")
@lang_option
@with_appcontext
def create_user(slug: str, email: str, name: str, role: str, password: str, totp: bool) -> None:
    """Create a staff member of a municipality."""
    with db.transaction() as session:
        m = session.execute(
            select(Municipality).where(Municipality.slug == slug)
        ).scalar_one_or_none()
        if m is None:
            raise click.BadParameter(
                say(_l("no municipality %(slug)r", slug=slug)), param_hint="--municipality"
            )
        try:
            user, secret = auth.create_user(
                session,
                m,
                email=email,
                name=name,
                role=role,
                password=password,
                actor="cli",
                with_totp=totp,
            )
        except DomainError as err:
            click.echo(f"{err.code}: {say(err.message)}", err=True)
            sys.exit(2)
    echo(_l("user %(email)s (%(role)s) created", email=user.email, role=role))
    if secret:
        echo(_l("TOTP secret (add it to an authenticator app): %(secret)s", secret=secret))


@admin_group.command("reset-user")
@click.option("--email", required=True)
@click.option("--password/--keep-password", default=False, help="ask for a new password")
@click.option("--active/--inactive", default=None, help="switch the account on or off")
@lang_option
@with_appcontext
def reset_user(email: str, password: bool, active: bool | None) -> None:
    """Reset a staff member's password or switch the account off; every login ends."""
    new = (
        click.prompt("New password", hide_input=True, confirmation_prompt=True)
        if password
        else None
    )
    with db.transaction() as session:
        try:
            auth.reset_user(session, email, actor="cli", password=new, active=active)
        except DomainError as err:
            click.echo(f"{err.code}: {say(err.message)}", err=True)
            sys.exit(2)
    echo(_l("user %(email)s: logins ended", email=email))


def _commands() -> list[click.Command]:
    from admin.funds import cli as cli_funds
    from admin.passes import cli as cli_passes
    from admin.reports import cli as cli_reports
    from admin.settlement import cli as cli_settlement
    from admin.shops import cli as cli_shops

    return [
        admin_group,
        *cli_funds.commands,
        *cli_shops.commands,
        *cli_reports.commands,
        *cli_settlement.commands,
        *cli_passes.commands,
    ]


commands: list[click.Command] = _commands()
