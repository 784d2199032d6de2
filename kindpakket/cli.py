"""The ``kindpakket`` command: the CLI root (factory side: it knows every package's commands)."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from kindpakket.db import db


def _create_app():  # type: ignore[no-untyped-def]
    from kindpakket import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Kindpakket: child budgets on a verifiable ledger."""


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from kindpakket.migrate import upgrade

    upgrade(db.engine)
    click.echo(f"database is up to date: {db.engine.url.render_as_string(hide_password=True)}")


@main.group("ledger")
def ledger_group() -> None:
    """The ledger: verify, checkpoint, export."""


@ledger_group.command("verify")
@with_appcontext
def ledger_verify() -> None:
    """Recompute every hash, link, zero sum and balance; exit 1 naming the first wrong entry."""
    from ledger import store

    with db.transaction() as session:
        report = store.verify(session)
    if report.ok:
        click.echo(
            f"OK: {report.entries} entries, {len(report.balances)} accounts, "
            f"head {report.head_hash[:16]}…"
        )
        return
    click.echo(f"FAILED after {report.entries} good entries: {report.problem}", err=True)
    sys.exit(1)


def _register_package_commands() -> None:
    from admin import cli as admin_cli
    from merchant import cli as merchant_cli
    from wallet import cli as wallet_cli

    for module in (wallet_cli, merchant_cli, admin_cli):
        for command in module.commands:
            main.add_command(command)


_register_package_commands()
