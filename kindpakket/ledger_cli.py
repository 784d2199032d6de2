"""``kindpakket ledger ...``: verify (from the database or an export), checkpoint, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

from kindpakket.audit import record_event
from kindpakket.db import db, read_only


@click.group("ledger")
def ledger_group() -> None:
    """The ledger: verify, checkpoint, export."""


def _fail(what: str, done: str, problem: object) -> NoReturn:
    """Print the first problem and exit 1."""
    click.echo(f"FAILED {what} after {done}: {problem}", err=True)
    sys.exit(1)


@ledger_group.command("verify")
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Verify an export directory instead of the database (no database needed).",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint received earlier; the ledger must extend it.",
)
@click.option("--vkey", "vkeys", multiple=True, help="Extra trusted verifier key (vkey form).")
def ledger_verify(
    source: Path | None, checkpoint_file: Path | None, vkeys: tuple[str, ...]
) -> None:
    """Recompute every hash, link, sum, balance and checkpoint; exit 1 naming what is wrong."""
    note = checkpoint_file.read_text(encoding="utf-8") if checkpoint_file else None
    if source is not None:
        _verify_export(source, note, vkeys)
        return
    _verify_database(note, vkeys)


def _verify_export(source: Path, note: str | None, vkeys: tuple[str, ...]) -> None:
    """Verify an export directory offline."""
    from ledger.export import verify_export

    report = verify_export(source, checkpoint=note, vkeys=vkeys)
    if not report.ok:
        _fail("export", f"{report.entries} good entries", report.problem)
    click.echo(
        f"OK: {report.entries} entries, {report.checkpoints} checkpoints, "
        f"head {report.head_hash[:16]}…" + (" (extends the given checkpoint)" if note else "")
    )


@with_appcontext
def _verify_database(note: str | None, vkeys: tuple[str, ...]) -> None:
    """Verify the database: every entry, the head, its frontier, the tree, every checkpoint.

    Checkpoint roots, the given one's included, are recomputed from the entry hashes;
    stored tree nodes are only compared with that recomputation.
    """
    from kindpakket.ledger_api import checkpoint_vkeys
    from ledger import audit, proofs, store
    from ledger import checkpoint as ckpt

    verifiers = [*checkpoint_vkeys(), *vkeys]
    given = None
    if note is not None:
        try:
            given = ckpt.verify_checkpoint(note, verifiers)
        except ckpt.CheckpointError as exc:
            _fail("checkpoint file", "reading it", f"checkpoint_{exc.code}: {exc.message}")
    with read_only(), db.transaction() as session:
        sizes = {c.size for c in proofs.list_checkpoints(session)}
        if given is not None:
            sizes.add(given.size)
        report = store.verify(session, roots_at=sizes)
        if not report.ok:
            _fail("", f"{report.entries} good entries", report.problem)
        cps = audit.verify_checkpoints(
            session, verifiers, current_app.config["LEDGER_ORIGIN"], chain=report
        )
        if not cps.ok:
            _fail("checkpoints", f"{cps.checkpoints} good checkpoints", cps.problem)
    if given is not None:
        root = report.roots.get(given.size)
        if root is None:
            _fail(
                "checkpoint file",
                "reading it",
                f"the checkpoint covers {given.size} entries, the ledger has {report.last_seq}",
            )
        elif root != given.root:
            _fail(
                "checkpoint file",
                "reading it",
                f"the ledger does not extend it: the first {given.size} entries have root "
                f"{root.hex()}, the checkpoint signs {given.root.hex()}",
            )
    click.echo(
        f"OK: {report.entries} entries, {len(report.balances)} accounts, "
        f"{cps.checkpoints} checkpoints, head {report.head_hash[:16]}…"
        + (" (extends the given checkpoint)" if given is not None else "")
    )
    _verify_witnesses()


def _verify_witnesses() -> None:
    """Re-check stored cosignatures and say which witnesses co-signed the latest checkpoint."""
    from datetime import UTC, datetime

    from kindpakket.witness_api import witness_keys
    from ledger.cosign_store import check_cosignatures

    with read_only(), db.transaction() as session:
        found = check_cosignatures(session, witness_keys())
    if found.problem:
        _fail("witnesses", f"{found.checked} good cosignatures", found.problem)
    for name, signed_at in found.cosigners:
        when = datetime.fromtimestamp(signed_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(f"witness {name} co-signed checkpoint {found.latest_size} at {when}")
    if found.latest_size is not None and not found.cosigners:
        click.echo(
            f"WARNING: no witness co-signed the latest checkpoint ({found.latest_size}); "
            "a rewrite by whoever holds the signing key would go unnoticed",
            err=True,
        )


@ledger_group.command("checkpoint")
@with_appcontext
def ledger_checkpoint() -> None:
    """Sign and store a checkpoint of the whole ledger, and print it."""
    from kindpakket.ledger_api import checkpoint_signer
    from ledger import proofs

    try:
        with db.transaction() as session:
            made = proofs.make_checkpoint(
                session, checkpoint_signer(), current_app.config["LEDGER_ORIGIN"]
            )
            if made.created:  # installation-wide: the checkpoint covers every fund
                record_event(
                    session, "ledger.checkpoint_signed", actor="cli", after={"size": made.size}
                )
    except proofs.EmptyLedger as exc:
        _fail("checkpoint", "reading the ledger", exc.message)
    click.echo(made.note, nl=False)
    if not made.created:
        click.echo(f"(checkpoint {made.size} already existed)", err=True)


@ledger_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def ledger_export(directory: Path) -> None:
    """Write entries, checkpoints and keys as plain files an auditor can verify."""
    from kindpakket.ledger_api import checkpoint_vkeys
    from ledger import audit

    with read_only(), db.transaction() as session:
        count = audit.export_ledger(session, directory, checkpoint_vkeys())
    click.echo(f"exported {count} entries to {directory}")
