"""Command-line commands of the wallet package (added to ``kindpakket`` by the shell).

``kindpakket keys generate|rotate|list``: Ed25519 keys for QR tokens (and checkpoints).
Private keys stay in files readable only by the owner (mode 0600); nothing here prints them.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from kindpakket.appkeys import app_keyring
from kindpakket.audit import record_event
from kindpakket.db import db
from kindpakket.keys import (
    DEFAULT_OVERLAP_SECONDS,
    PURPOSES,
    KeyInfo,
    KeyringError,
)

PURPOSE = click.option(
    "--purpose",
    type=click.Choice(sorted(PURPOSES)),
    default="token",
    show_default=True,
    help="what the key signs",
)


def _line(info: KeyInfo, now: datetime) -> str:
    until = info.not_after.isoformat() if info.not_after else "-"
    state = "valid" if info.valid_at(now) else "expired"
    return f"{info.purpose:<10} {info.kid}  {info.not_before.isoformat()}  {until}  {state}"


def _fail(err: KeyringError) -> None:
    click.echo(f"{err.code}: {err.message}", err=True)
    sys.exit(2)


def _audit(name: str, purpose: str, kid: str) -> None:
    """Record a key change (installation-wide: keys sign for every fund)."""
    with db.transaction() as session:
        record_event(session, name, actor="cli", subject=f"key:{kid}", after={"purpose": purpose})


@click.group("keys")
def keys_group() -> None:
    """Signing keys: QR tokens and ledger checkpoints."""


@keys_group.command("generate")
@PURPOSE
@click.option("--force", is_flag=True, help="also when a valid key exists (prefer rotate)")
@with_appcontext
def generate(purpose: str, force: bool) -> None:
    """Create a first signing key."""
    try:
        info = app_keyring().generate(purpose, force=force)
    except KeyringError as err:
        _fail(err)
        return
    _audit("key.generated", purpose, info.kid)
    click.echo(f"generated {purpose} key {info.kid}")


@keys_group.command("rotate")
@PURPOSE
@click.option(
    "--overlap-seconds",
    type=click.IntRange(min=0),
    default=DEFAULT_OVERLAP_SECONDS,
    show_default=True,
    help="how long older keys keep verifying",
)
@with_appcontext
def rotate(purpose: str, overlap_seconds: int) -> None:
    """Make a new signing key; older keys keep verifying for the overlap."""
    try:
        info = app_keyring().rotate(purpose, overlap_seconds)
    except KeyringError as err:
        _fail(err)
        return
    _audit("key.rotated", purpose, info.kid)
    click.echo(f"rotated {purpose}: new key {info.kid}; older keys verify for {overlap_seconds} s")


@keys_group.command("list")
@with_appcontext
def list_keys() -> None:
    """List every key: purpose, id, valid from, valid until, state (no private material)."""
    try:
        keys = app_keyring().list()
    except KeyringError as err:
        _fail(err)
        return
    if not keys:
        click.echo("no keys; run `kindpakket keys generate`")
        return
    now = datetime.now(UTC)
    click.echo("purpose    kid       not_before  not_after  state")
    for info in keys:
        click.echo(_line(info, now))


commands: list[click.Command] = [keys_group]
