"""Proofs from the stored tree: roots, inclusion and consistency proofs, signed checkpoints.

Store side (SQLAlchemy, no Flask). Level-0 nodes are ``leaf_hash(bytes.fromhex(hash))`` of
entry ``seq = index + 1``; perfect nodes of level >= 1 sit in ``ledger_tree_nodes``. A proof
needs O(log n) nodes: they are collected in a dry run and fetched in two queries.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import nacl.signing
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from ledger import checkpoint as ckpt
from ledger import merkle
from ledger.errors import LedgerError
from ledger.models import CHECKPOINTS as _cps
from ledger.models import ENTRIES as _entries
from ledger.models import HEAD as _head

Signer = tuple[str, nacl.signing.SigningKey]
Verifiers = Sequence[str | ckpt.Verifier | tuple[str, nacl.signing.VerifyKey | bytes]]


class CheckpointConflict(LedgerError):
    """A new checkpoint would not be consistent with the latest stored one."""

    code = "checkpoint_conflict"


class EmptyLedger(LedgerError):
    """There is nothing to sign: the ledger has no entries."""

    code = "empty_ledger"


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored."""

    size: int
    root: bytes
    note: str
    created_at: datetime
    created: bool = False  # True when this call made it


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry ``seq`` (leaf ``seq - 1``) under the tree of ``size`` entries."""

    seq: int
    size: int
    entry_hash: str
    proof: list[bytes]
    root: bytes


# --- nodes ---------------------------------------------------------------------------------


def _collect(run: Callable[[merkle.GetNode], Any]) -> set[tuple[int, int]]:
    """Return the nodes ``run`` asks for, answering with placeholders."""
    wanted: set[tuple[int, int]] = set()

    def fake(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return merkle.EMPTY_ROOT

    run(fake)
    return wanted


def _fetch(
    session: Session, wanted: Iterable[tuple[int, int]], hexes: dict[int, str] | None = None
) -> dict[tuple[int, int], bytes]:
    """Fetch the given nodes in (at most) two queries.

    Plain SQL with one ``(level = ? AND idx = ?)`` arm per node: each arm is a primary-key
    lookup, and building it costs far less than an expression tree of the same shape.
    """
    leaves = sorted(i for lv, i in wanted if lv == 0)
    inner = sorted((lv, i) for lv, i in wanted if lv > 0)
    out: dict[tuple[int, int], bytes] = {}
    if leaves:
        params = {f"s{n}": i + 1 for n, i in enumerate(leaves)}
        marks = ", ".join(f":{k}" for k in params)
        sql = text(f"SELECT seq, hash FROM ledger_entries WHERE seq IN ({marks})")  # noqa: S608 - placeholders only
        for seq, digest in session.execute(sql, params):
            out[(0, int(seq) - 1)] = merkle.leaf_hash(bytes.fromhex(str(digest)))
            if hexes is not None:
                hexes[int(seq)] = str(digest)
    if inner:
        params = {}
        arms = []
        for n, (lv, ix) in enumerate(inner):
            params[f"l{n}"], params[f"i{n}"] = lv, ix
            arms.append(f"(level = :l{n} AND idx = :i{n})")
        sql = text(f"SELECT level, idx, hash FROM ledger_tree_nodes WHERE {' OR '.join(arms)}")  # noqa: S608 - placeholders only
        for lv, ix, h in session.execute(sql, params):
            out[(int(lv), int(ix))] = bytes(h)
    return out


def _run(
    session: Session, run: Callable[[merkle.GetNode], Any], hexes: dict[int, str] | None = None
) -> Any:
    """Run a proof builder against the stored tree, fetching its nodes in bulk."""
    nodes = _fetch(session, _collect(run), hexes)

    def get(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise merkle.ProofError(
                "missing_node", f"tree node ({level}, {index}) is not stored"
            ) from None

    return run(get)


def get_node(session: Session, level: int, index: int) -> bytes:
    """Return the stored perfect-subtree hash at ``(level, index)``.

    Args:
        session: a transaction.
        level: 0 for a leaf, else the height of the perfect subtree.
        index: position of the subtree at that level.

    Returns:
        The 32-byte hash.

    Raises:
        ProofError: ``missing_node`` when the node is not stored.
    """
    found = _fetch(session, [(level, index)]).get((level, index))
    if found is None:
        raise merkle.ProofError("missing_node", f"tree node ({level}, {index}) is not stored")
    return found


def tree_size(session: Session) -> int:
    """Return the number of entries in the chain (the current tree size)."""
    return int(session.execute(select(_head.c.seq).where(_head.c.id == 1)).scalar_one())


def tree_root(session: Session, size: int | None = None) -> bytes:
    """Return the Merkle root of the first ``size`` entries (default: all).

    Args:
        session: a transaction.
        size: tree size, at most the number of entries.

    Returns:
        The 32-byte root.

    Raises:
        ProofError: ``bad_size`` when the chain has fewer entries.
    """
    row = session.execute(select(_head.c.seq, _head.c.frontier).where(_head.c.id == 1)).one()
    current = int(row.seq)
    if size is None or size == current:
        return merkle.root_from_frontier(merkle.decode_frontier(bytes(row.frontier)))
    _check_size(size, current)
    result: bytes = _run(session, lambda get: merkle.root(get, size))
    return result


def inclusion(session: Session, seq: int, size: int | None = None) -> InclusionProof:
    """Return the inclusion proof of entry ``seq`` in the tree of ``size`` entries.

    Args:
        session: a transaction.
        seq: 1-based entry number.
        size: tree size (default: all entries); ``seq <= size``.

    Returns:
        The proof with the entry hash and the root it leads to.

    Raises:
        ProofError: ``bad_size`` or ``index_out_of_range``.
    """
    current = tree_size(session)
    size = current if size is None else size
    _check_size(size, current)
    if not 1 <= seq <= size:
        raise merkle.ProofError(
            merkle.PROOF_INDEX_OUT_OF_RANGE, f"entry {seq} is not in the tree of size {size}"
        )

    def build(get: merkle.GetNode) -> tuple[bytes, list[bytes], bytes]:
        return get(0, seq - 1), merkle.inclusion_proof(seq - 1, size, get), merkle.root(get, size)

    hexes: dict[int, str] = {}
    _, path, root = _run(session, build, hexes)
    return InclusionProof(seq, size, hexes[seq], path, root)


TREE_MISMATCH = "tree_mismatch"


def checked_inclusion(session: Session, seq: int, checkpoint: StoredCheckpoint) -> InclusionProof:
    """Return the inclusion proof of entry ``seq`` in a checkpoint, checked against its signature.

    The proof is built from stored tree nodes, which the database's owner could have
    changed; it is served only when it leads from the entry's hash to the root signed in the
    checkpoint's note.

    Args:
        session: a transaction.
        seq: 1-based entry number, at most the checkpoint's size.
        checkpoint: a stored checkpoint.

    Returns:
        The proof, its ``root`` being the signed root.

    Raises:
        ProofError: ``bad_size``/``index_out_of_range`` for impossible numbers;
            ``tree_mismatch`` when the stored tree does not lead to the signed root.
    """
    signed = ckpt.parse_note(checkpoint.note)[0]
    proof = inclusion(session, seq, signed.size)
    leaf = merkle.leaf_hash(bytes.fromhex(proof.entry_hash))
    try:
        merkle.check_inclusion(leaf, seq - 1, signed.size, proof.proof, signed.root)
    except merkle.ProofError as exc:
        raise merkle.ProofError(
            TREE_MISMATCH,
            f"the stored tree does not prove entry {seq} in checkpoint {signed.size}: "
            f"expected root {signed.root.hex()}, the proof leads elsewhere ({exc.code})",
        ) from exc
    return InclusionProof(seq, signed.size, proof.entry_hash, proof.proof, signed.root)


def consistency(session: Session, old: int, new: int | None = None) -> list[bytes]:
    """Return the consistency proof between the trees of ``old`` and ``new`` entries.

    Args:
        session: a transaction.
        old: earlier size.
        new: later size (default: all entries).

    Returns:
        The RFC 9162 proof hashes.

    Raises:
        ProofError: ``bad_size`` for an old size of 0, sizes out of order or beyond the chain.
    """
    current = tree_size(session)
    new = current if new is None else new
    _check_size(new, current)
    if not 1 <= old <= new:  # RFC 9162: no proof from the empty tree
        raise merkle.ProofError(merkle.PROOF_BAD_SIZE, f"cannot go from size {old} to {new}")
    proof: list[bytes] = _run(session, lambda get: merkle.consistency_proof(old, new, get))
    return proof


def _check_size(size: int, current: int) -> None:
    """Refuse a tree size outside ``0..current``."""
    if not 0 <= size <= current:
        raise merkle.ProofError(
            merkle.PROOF_BAD_SIZE, f"the ledger has {current} entries, not {size}"
        )


# --- checkpoints ---------------------------------------------------------------------------


def _row_to_checkpoint(row: Any, created: bool = False) -> StoredCheckpoint:
    """Build a StoredCheckpoint from a table row."""
    return StoredCheckpoint(
        int(row.size), bytes.fromhex(str(row.root)), str(row.note), row.created_at, created
    )


def latest_checkpoint(session: Session) -> StoredCheckpoint | None:
    """Return the stored checkpoint of the largest size, or None."""
    row = session.execute(select(_cps).order_by(_cps.c.size.desc()).limit(1)).one_or_none()
    return None if row is None else _row_to_checkpoint(row)


def checkpoint_at(session: Session, size: int) -> StoredCheckpoint | None:
    """Return the stored checkpoint of tree size ``size``, or None."""
    row = session.execute(select(_cps).where(_cps.c.size == size)).one_or_none()
    return None if row is None else _row_to_checkpoint(row)


def checkpoint_covering(session: Session, seq: int) -> StoredCheckpoint | None:
    """Return the smallest stored checkpoint whose tree holds entry ``seq``, or None."""
    row = session.execute(
        select(_cps).where(_cps.c.size >= seq).order_by(_cps.c.size).limit(1)
    ).one_or_none()
    return None if row is None else _row_to_checkpoint(row)


def list_checkpoints(session: Session) -> Iterator[StoredCheckpoint]:
    """Yield every stored checkpoint, smallest size first."""
    for row in session.execute(select(_cps).order_by(_cps.c.size)):
        yield _row_to_checkpoint(row)


def _lock_head(session: Session) -> tuple[int, bytes]:
    """Take the chain-head lock (as appends do) and return ``(size, frontier)``."""
    if session.get_bind().dialect.name == "sqlite":
        # A write first: takes SQLite's write lock before any read (see ledger.store).
        session.execute(update(_head).where(_head.c.id == 1).values(seq=_head.c.seq))
        row = session.execute(select(_head.c.seq, _head.c.frontier).where(_head.c.id == 1)).one()
    else:
        row = session.execute(
            select(_head.c.seq, _head.c.frontier).where(_head.c.id == 1).with_for_update()
        ).one()
    return int(row.seq), bytes(row.frontier)


def make_checkpoint(
    session: Session, signer: Signer, origin: str, *, at: datetime | None = None
) -> StoredCheckpoint:
    """Sign and store a checkpoint of the whole chain; idempotent for an unchanged size.

    Holds the chain-head lock, so no entry is appended meanwhile and two callers cannot
    race. A new checkpoint must be consistent with the latest stored one.

    Args:
        session: the current transaction (the caller commits).
        signer: ``(key name, signing key)``; the key name is usually the origin.
        origin: the log's origin line.
        at: creation time (default now, UTC).

    Returns:
        The new checkpoint (``created=True``) or the stored one of the same size.

    Raises:
        CheckpointConflict: the stored chain no longer extends the latest checkpoint.
        EmptyLedger: there is no entry to sign yet.
    """
    size, frontier = _lock_head(session)
    if size == 0:  # RFC 9162 proves nothing from the empty tree: do not sign one
        raise EmptyLedger("the ledger has no entries to sign yet")
    root = merkle.root_from_frontier(merkle.decode_frontier(frontier))
    latest = latest_checkpoint(session)
    if latest is not None:
        _check_extends(session, latest, size, root)
        if latest.size == size:
            return latest
    note = ckpt.sign_checkpoint(ckpt.Checkpoint(origin, size, root), signer[0], signer[1])
    created = at or datetime.now(UTC)
    session.execute(_cps.insert().values(size=size, root=root.hex(), note=note, created_at=created))
    return StoredCheckpoint(size, root, note, created, True)


def _check_extends(session: Session, latest: StoredCheckpoint, size: int, root: bytes) -> None:
    """Raise CheckpointConflict unless the tree of ``size`` with ``root`` extends ``latest``."""
    signed = ckpt.parse_note(latest.note)[0]
    if signed.size != latest.size or signed.root != latest.root:
        raise CheckpointConflict(f"stored checkpoint {latest.size} differs from its note")
    if size < latest.size:
        raise CheckpointConflict(f"the chain has {size} entries, checkpoint {latest.size} more")
    if latest.size == 0:  # an empty-tree checkpoint from before: every tree extends it
        if latest.root != merkle.EMPTY_ROOT:
            raise CheckpointConflict("stored checkpoint 0 is not the empty tree's root")
        return
    try:
        proof = consistency(session, latest.size, size)
        merkle.check_consistency(latest.size, size, latest.root, root, proof)
    except merkle.ProofError as exc:
        raise CheckpointConflict(
            f"tree of {size} entries is not consistent with checkpoint {latest.size}: {exc.code}"
        ) from exc


def maybe_checkpoint(
    session: Session,
    signer: Signer,
    origin: str,
    every_entries: int,
    every_seconds: int,
    *,
    now: datetime | None = None,
) -> StoredCheckpoint | None:
    """Make a checkpoint when N entries or M seconds passed since the latest one.

    With no checkpoint yet, the time counts from the first entry.

    Args:
        session: the current transaction.
        signer: ``(key name, signing key)``.
        origin: the log's origin line.
        every_entries: checkpoint once this many entries are not yet covered (0: never).
        every_seconds: checkpoint once uncovered entries are this old (0: never).
        now: the current time (default now, UTC).

    Returns:
        The new checkpoint, or None when none was due.
    """
    now = now or datetime.now(UTC)
    size = tree_size(session)
    latest = latest_checkpoint(session)
    covered = latest.size if latest is not None else 0
    if size <= covered:
        return None
    due = every_entries > 0 and size - covered >= every_entries
    if not due and every_seconds > 0:
        since = latest.created_at if latest is not None else _entry_time(session, 1)
        due = since is not None and (now - since).total_seconds() >= every_seconds
    return make_checkpoint(session, signer, origin, at=now) if due else None


def _entry_time(session: Session, seq: int) -> datetime | None:
    """Return when entry ``seq`` was written."""
    value = session.execute(select(_entries.c.created_at).where(_entries.c.seq == seq)).scalar()
    return cast(datetime | None, value)  # aware UTC: the column type sees to it


def b64(data: bytes) -> str:
    """Return standard base64 of ``data`` (for JSON answers)."""
    return base64.b64encode(data).decode("ascii")


__all__ = [
    "CheckpointConflict",
    "EmptyLedger",
    "InclusionProof",
    "StoredCheckpoint",
    "checked_inclusion",
    "checkpoint_at",
    "checkpoint_covering",
    "consistency",
    "get_node",
    "inclusion",
    "latest_checkpoint",
    "list_checkpoints",
    "make_checkpoint",
    "maybe_checkpoint",
    "tree_root",
    "tree_size",
]


def __getattr__(name: str) -> Any:
    """Keep ``proofs.verify_checkpoints`` and ``proofs.export_ledger`` (now in ledger.audit)."""
    if name in ("verify_checkpoints", "export_ledger"):
        from ledger import audit  # audit imports this module

        return getattr(audit, name)
    raise AttributeError(name)
