"""Witness cosignatures of stored checkpoints: collect, serve and re-check them.

Store side (SQLAlchemy, no Flask). A cosignature is accepted only from a configured witness
key and only when it verifies over the body of the checkpoint stored at that size; the
line is kept exactly as sent and appended to the checkpoint's note when served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ledger import checkpoint as ckpt
from ledger import proofs
from ledger import witness as wit
from ledger.errors import LedgerError
from ledger.models import COSIGNATURES as _cosigs

NO_CHECKPOINT = "no_checkpoint"


class CosignatureRefused(LedgerError):
    """A cosignature was not accepted; ``code`` is ``no_checkpoint`` or a witness code."""

    code = "cosignature_refused"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    """A cosignature as stored."""

    size: int
    witness: str
    key_id: str
    signed_at: int
    line: str
    created: bool = False  # True when this call stored it


def add_cosignature(
    session: Session,
    size: int,
    line: str,
    keys: Sequence[wit.CosignerKey],
    *,
    now: datetime | None = None,
) -> StoredCosignature:
    """Verify a witness's cosignature of the checkpoint of ``size`` and store it once.

    A second cosignature by the same witness for the same size keeps the first.

    Args:
        session: the unit of work (not committed here).
        size: tree size of the stored checkpoint that was co-signed.
        line: the cosignature line.
        keys: the configured witness keys.
        now: the time (default: now); cosignatures dated more than 5 minutes later are
            refused.

    Returns:
        The stored cosignature; ``created`` tells whether this call stored it.

    Raises:
        CosignatureRefused: ``no_checkpoint``, ``bad_format``, ``unknown_witness``,
            ``bad_signature`` or ``future_timestamp``.
    """
    moment = now or datetime.now(UTC)
    stored = proofs.checkpoint_at(session, size)
    if stored is None:
        raise CosignatureRefused(NO_CHECKPOINT, f"there is no checkpoint of size {size}")
    body, _ = ckpt.split_note(stored.note)
    try:
        key, co = wit.verify_cosignature(body, line, keys, now=int(moment.timestamp()))
    except wit.WitnessError as exc:
        raise CosignatureRefused(exc.code, exc.message) from exc
    row = {
        "size": size,
        "witness": key.name,
        "key_id": key.key_id.hex(),
        "signed_at": co.timestamp,
        "line": co.line(),
        "received_at": moment,
    }
    insert: Any = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(_cosigs).values(**row).on_conflict_do_nothing().returning(_cosigs.c.size)
    if session.execute(statement).first() is not None:
        return StoredCosignature(size, key.name, key.key_id.hex(), co.timestamp, co.line(), True)
    kept = session.execute(
        select(_cosigs.c.signed_at, _cosigs.c.line).where(
            _cosigs.c.size == size,
            _cosigs.c.witness == key.name,
            _cosigs.c.key_id == key.key_id.hex(),
        )
    ).one()
    return StoredCosignature(size, key.name, key.key_id.hex(), kept.signed_at, kept.line)


def cosignatures_at(session: Session, size: int) -> list[StoredCosignature]:
    """Return the stored cosignatures of the checkpoint of ``size``, oldest first."""
    rows = session.execute(
        select(_cosigs).where(_cosigs.c.size == size).order_by(_cosigs.c.signed_at)
    )
    return [StoredCosignature(r.size, r.witness, r.key_id, r.signed_at, r.line) for r in rows]


def cosigned_note(session: Session, stored: proofs.StoredCheckpoint) -> str:
    """Return the checkpoint's note with its stored cosignature lines appended."""
    lines = [c.line for c in cosignatures_at(session, stored.size)]
    return wit.with_cosignatures(stored.note, lines) if lines else stored.note


@dataclass(frozen=True, slots=True)
class WitnessReport:
    """Who co-signed the latest checkpoint, and the first stored cosignature that is bad."""

    latest_size: int | None
    cosigners: list[tuple[str, int]]  # (witness name, signed at) for the latest checkpoint
    checked: int  # stored cosignatures re-verified
    problem: str | None = None


def check_cosignatures(session: Session, keys: Sequence[wit.CosignerKey]) -> WitnessReport:
    """Re-verify every stored cosignature against the checkpoint bodies; name the latest's.

    Cosignatures by keys no longer configured are skipped, not trusted.

    Args:
        session: a reading session.
        keys: the configured witness keys.

    Returns:
        The report; ``problem`` names the first cosignature that does not verify.
    """
    latest = proofs.latest_checkpoint(session)
    latest_size = latest.size if latest is not None else None
    notes = {cp.size: cp.note for cp in proofs.list_checkpoints(session)}
    known = {(k.name, k.key_id.hex()) for k in keys}
    checked, cosigners = 0, list[tuple[str, int]]()
    rows = session.execute(select(_cosigs).order_by(_cosigs.c.size, _cosigs.c.signed_at))
    for r in rows:
        if (r.witness, r.key_id) not in known:
            continue
        body, _ = ckpt.split_note(notes[r.size])
        try:
            _, co = wit.verify_cosignature(body, r.line, keys)
        except wit.WitnessError as exc:
            problem = f"cosignature by {r.witness} of size {r.size}: {exc.code}: {exc.message}"
            return WitnessReport(latest_size, cosigners, checked, problem)
        if co.name != r.witness or co.timestamp != r.signed_at:
            problem = f"cosignature by {r.witness} of size {r.size} differs from its columns"
            return WitnessReport(latest_size, cosigners, checked, problem)
        checked += 1
        if r.size == latest_size:
            cosigners.append((r.witness, r.signed_at))
    return WitnessReport(latest_size, cosigners, checked)
