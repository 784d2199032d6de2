"""``kindpakket backup DIR`` and ``kindpakket restore DIR`` (factory side: commands of the shell).

A restore verifies the ledger by itself and compares it with the checkpoint(s) the
municipality kept (``--checkpoint FILE``, repeatable). Unless the restore is proven
complete, the service is held: ``/readyz`` answers 503 and every page and API call answers
503 naming the hold, until someone decides with ``kindpakket restore --accept-loss``.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kindpakket import backup as bk
from kindpakket import hold, recovery
from kindpakket.audit import record_event
from kindpakket.db import db
from kindpakket.keys import Keyring
from ledger.checkpoint import CheckpointError, vkey


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Back up the database (consistent while payments go on) and the public keys to DIRECTORY."""
    try:
        manifest = bk.backup(db.engine, directory, Path(current_app.config["KEY_DIR"]))
    except bk.BackupError as exc:
        click.echo(f"backup FAILED: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"backup of {manifest['head_seq']} ledger entries "
        f"(head {manifest['head_hash'][:16]}…, checkpoint {manifest['checkpoint_size']}) "
        f"written to {directory}"
    )


@click.command("restore")
@click.argument(
    "directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint kept outside the database; the restored ledger must extend it.",
)
@click.option(
    "--accept-loss",
    is_flag=True,
    help="Decide to serve although entries were lost or completeness is unproven "
    "(without DIRECTORY: lift the hold of an earlier restore).",
)
@click.option("--by", "decided_by", default=None, help="Who decides (kept in the audit log).")
@with_appcontext
def restore_command(
    directory: Path | None,
    checkpoints: tuple[Path, ...],
    accept_loss: bool,
    decided_by: str | None,
) -> None:
    """Restore DIRECTORY, verify the ledger and prove it extends the kept checkpoint."""
    actor = f"cli:{decided_by or getpass.getuser()}"[:80]
    if directory is None:
        if not accept_loss:
            raise click.UsageError("give a backup DIRECTORY, or --accept-loss to lift a hold")
        _lift(actor)
        return
    try:
        manifest = bk.restore(db.engine, directory)
    except bk.BackupError as exc:
        click.echo(f"restore FAILED: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored {manifest['head_seq']} entries from {directory}; verifying…")
    notes = [p.read_text(encoding="utf-8") for p in checkpoints]
    try:
        with db.transaction() as session:
            finding = recovery.check(
                session, _verifiers(directory), current_app.config["LEDGER_ORIGIN"], notes
            )
            _decide(session, finding, accept_loss, actor)
    except CheckpointError as exc:
        with db.transaction() as session:
            hold.place(session, "bad_checkpoint", {"problem": exc.message})
        _forget_hold()
        click.echo(f"HELD: a kept checkpoint is not valid: {exc.message}", err=True)
        sys.exit(1)
    _forget_hold()
    click.echo(finding.describe())
    if not finding.ok and not (accept_loss and finding.outcome != "verify_failed"):
        click.echo(
            "The service is HELD: it answers 503 until someone decides "
            "(kindpakket restore --accept-loss --by NAME).",
            err=True,
        )
        sys.exit(1)


def _decide(session: object, finding: recovery.Finding, accept_loss: bool, actor: str) -> None:
    """Hold the service, or record that someone accepted what was found."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    hold.clear(session)
    # Recorded in the restored database, so its audit log says where its state came from.
    record_event(session, "database.restored", actor=actor, after=finding.as_dict())
    if finding.ok:
        return
    if accept_loss and finding.outcome != "verify_failed":
        record_event(session, "service.restore_loss_accepted", actor=actor, after=finding.as_dict())
        return
    hold.place(session, finding.outcome, finding.as_dict())


def _lift(actor: str) -> None:
    with db.transaction() as session:
        before = hold.current(session)
        if before is None:
            click.echo("no hold: the service is serving")
            return
        hold.clear(session)
        record_event(session, "service.hold_lifted", actor=actor, before=before)
    _forget_hold()
    click.echo(f"hold lifted ({before['reason']}); the service serves again")


def _verifiers(directory: Path) -> list[str]:
    """Return the checkpoint keys of this installation and those kept in the backup."""
    from kindpakket.ledger_api import checkpoint_vkeys

    origin = current_app.config["LEDGER_ORIGIN"]
    kept = Keyring(directory / "keys").list()
    extra = [vkey(origin, k.public_key) for k in kept if k.purpose == "checkpoint"]
    return sorted({*checkpoint_vkeys(), *extra})


def _forget_hold() -> None:
    cache = current_app.extensions.get("kindpakket_hold")
    if cache is not None:
        cache.forget()


def _doctor() -> click.Command:
    from kindpakket.doctor import doctor_command

    return doctor_command


commands = (backup_command, restore_command, _doctor())
