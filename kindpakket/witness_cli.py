"""``kindpakket witness ...``: keep and co-sign the ledger's checkpoints, from outside.

A witness is run by someone other than the ledger's owner (the municipality's auditor, a
neighbouring municipality, a shop association). It needs no database and no app settings,
only a state file and the ledger's public URL::

    kindpakket witness init --state w.json --name auditor.gemeente.example/witness \\
        --origin kindpakket.example/ledger --log-vkey 'kindpakket.example/ledger+…'
    kindpakket witness run --state w.json --url https://kindpakket.gemeente.example

Exit codes: 0 fine, 1 an error (ledger unreachable, bad answer), 3 the ledger misbehaved
(split view, rollback or fork): the evidence is in the state file and the witness co-signs
nothing more until someone has looked.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from kindpakket.witness_state import (
    AlarmRaised,
    LedgerClient,
    StateError,
    TransportError,
    load_state,
    new_state,
    save_state,
    witness_round,
)
from ledger import checkpoint as ckpt
from ledger import witness as wit

EXIT_ERROR = 1
EXIT_MISBEHAVIOUR = 3

STATE = click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's state file (holds its private key: keep it safe).",
)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(message: str, *, err: bool = False) -> None:
    click.echo(f"{_stamp()} {message}", err=err)


@click.group("witness")
def witness_group() -> None:
    """Witness: keep and co-sign the ledger's checkpoints (needs no database)."""


@witness_group.command("init")
@STATE
@click.option("--name", required=True, help="Key name, e.g. auditor.gemeente.example/witness.")
@click.option("--origin", required=True, help="The log's origin line (KINDPAKKET_LEDGER_ORIGIN).")
@click.option(
    "--log-vkey",
    "log_vkeys",
    multiple=True,
    required=True,
    help="The log's checkpoint verifier key (from /api/v1/keys); repeat for old keys.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing state file (a new key!).")
def witness_init(
    state_path: Path, name: str, origin: str, log_vkeys: tuple[str, ...], force: bool
) -> None:
    """Make a new witness key and state file; print the vkey for the ledger's settings."""
    if state_path.exists() and not force:
        raise click.ClickException(f"{state_path} exists; --force makes a new witness key")
    try:
        state = new_state(name, origin, list(log_vkeys))
    except (ckpt.CheckpointError, wit.WitnessError) as exc:
        raise click.ClickException(exc.message) from None
    save_state(state_path, state)
    state_path.chmod(0o600)
    click.echo(state.vkey)
    click.echo(
        "Give the line above to the ledger's operator for KINDPAKKET_WITNESS_VKEYS.", err=True
    )


@witness_group.command("status")
@STATE
def witness_status(state_path: Path) -> None:
    """Show the witness key, the last co-signed checkpoint and any alarm."""
    try:
        state = load_state(state_path)
    except StateError as exc:
        raise click.ClickException(str(exc)) from None
    view = state.view
    click.echo(f"witness   {state.vkey}")
    click.echo(f"log       {view.origin}")
    click.echo(f"co-signed size {view.size} (published: {state.published_size})")
    if state.alarm:
        click.echo(f"ALARM     {state.alarm['code']}: {state.alarm['message']}", err=True)
        sys.exit(EXIT_MISBEHAVIOUR)


@witness_group.command("run")
@STATE
@click.option("--url", required=True, help="The ledger's base URL, e.g. https://…")
@click.option("--once", is_flag=True, help="Do one round and exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--timeout", default=10.0, show_default=True, help="HTTP timeout in seconds.")
def witness_run(state_path: Path, url: str, once: bool, interval: float, timeout: float) -> None:
    """Follow the ledger: verify each new checkpoint and its consistency, co-sign, publish."""
    try:
        client = LedgerClient(url, timeout=timeout)
    except TransportError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        while True:
            code = _one_round(state_path, client)
            if code == EXIT_MISBEHAVIOUR or (once and code):
                sys.exit(code)
            if once:
                return
            time.sleep(interval)
    finally:
        client.close()


def _one_round(state_path: Path, client: LedgerClient) -> int:
    """Run one round and report it; return the exit code it calls for."""
    try:
        result = witness_round(state_path, client)
    except wit.WitnessError as exc:
        if exc.misbehaviour:
            _say(f"ALARM: the ledger misbehaved: {exc.code}: {exc.message}", err=True)
            _say(f"ALARM: not co-signed; both signed notes kept in {state_path}", err=True)
            return EXIT_MISBEHAVIOUR
        _say(f"refused: {exc.code}: {exc.message}", err=True)
        return EXIT_ERROR
    except AlarmRaised as exc:
        _say(f"ALARM: {exc}", err=True)
        return EXIT_MISBEHAVIOUR
    except StateError as exc:
        _say(f"error: {exc}", err=True)
        return EXIT_ERROR
    except TransportError as exc:
        _say(f"error: {exc}", err=True)
        return EXIT_ERROR
    if result.outcome == "cosigned":
        _say(f"co-signed checkpoint {result.size}")
    elif result.outcome == "unchanged":
        _say(f"checkpoint {result.size} unchanged")
    else:
        _say("the ledger has no checkpoint yet")
    return 0
