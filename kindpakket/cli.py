"""The ``kindpakket`` command: the CLI root (factory side: it knows every package's commands)."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, with_appcontext

from admin.reports.cli import public_register
from admin.reports.exportfigures import public_figures
from kindpakket.db import db
from kindpakket.ledger_cli import ledger_group
from kindpakket.ops_cli import commands as ops_commands
from kindpakket.witness_cli import witness_group
from kindpakket.worker_cli import worker_command


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


ledger_group.add_command(public_figures)  # admin's commands, under "kindpakket ledger"
ledger_group.add_command(public_register)
main.add_command(ledger_group)
main.add_command(witness_group)  # needs no app and no database
main.add_command(worker_command)
for _command in ops_commands:
    main.add_command(_command)


def _register_package_commands() -> None:
    from kindpakket.demo import demo_command

    main.add_command(demo_command)
    from admin import cli as admin_cli
    from merchant import cli as merchant_cli
    from wallet import cli as wallet_cli

    for module in (wallet_cli, merchant_cli, admin_cli):
        for command in module.commands:
            main.add_command(command)


_register_package_commands()
