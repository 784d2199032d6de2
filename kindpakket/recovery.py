"""After a restore: verify the ledger and show it extends the checkpoint the municipality kept.

The outcome is one of:

* ``complete``: every hash, link, sum, balance and stored checkpoint holds, and the ledger
  contains the kept checkpoint's tree (its root recomputed from the entry hashes);
* ``entries_lost``: the kept checkpoint covers entries the restored ledger lacks; they are
  named by number (``first_lost`` to ``last_lost``);
* ``does_not_extend``: the restored ledger is as long but its tree differs (a fork);
* ``unproven``: no kept checkpoint was given, so nothing shows that entries were not lost;
* ``verify_failed``: the restored ledger itself does not verify.

All but ``complete`` hold the service (``kindpakket.hold``) until someone decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import checkpoint as ckpt
from ledger import proofs, store
from ledger.export import RootTracker
from ledger.models import LedgerEntry


@dataclass
class Finding:
    """What the restored ledger was found to be."""

    outcome: str
    entries: int = 0
    head_hash: str = ""
    kept_size: int | None = None
    lost: int = 0
    first_lost: int | None = None
    last_lost: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Return True when the restore is proven complete."""
        return self.outcome == "complete"

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as plain JSON values."""
        return asdict(self)

    def describe(self) -> str:
        """Say in plain words what was found."""
        if self.outcome == "complete":
            return (
                f"complete: {self.entries} entries verify and extend the kept checkpoint "
                f"of {self.kept_size} entries"
            )
        if self.outcome == "entries_lost":
            return (
                f"ENTRIES LOST: the kept checkpoint covers {self.kept_size} entries, the restored "
                f"ledger has {self.entries}; {self.lost} entries are missing: numbers "
                f"{self.first_lost} to {self.last_lost}"
            )
        if self.outcome == "does_not_extend":
            return (
                f"DOES NOT EXTEND the kept checkpoint of {self.kept_size} entries: the restored "
                "ledger holds different entries (a fork or a tampered copy)"
            )
        if self.outcome == "unproven":
            return (
                f"UNPROVEN: {self.entries} entries verify, but no kept checkpoint was given, so "
                "nothing shows that later entries were not lost (pass --checkpoint FILE)"
            )
        return f"VERIFICATION FAILED: {self.problem}"


def check(
    session: Session, verifiers: Sequence[str], origin: str, kept_notes: Sequence[str]
) -> Finding:
    """Verify the ledger in ``session`` and compare it with the kept checkpoint notes.

    Raises:
        ledger.checkpoint.CheckpointError: a kept checkpoint is not validly signed.
    """
    report = store.verify(session)
    if not report.ok:
        return Finding("verify_failed", report.entries, problem=str(report.problem))
    cps = proofs.verify_checkpoints(session, list(verifiers), origin)
    if not cps.ok:
        return Finding("verify_failed", report.entries, problem=str(cps.problem))
    found = Finding("unproven", report.last_seq, report.head_hash)
    kept = [ckpt.verify_checkpoint(note, list(verifiers), origin) for note in kept_notes]
    if not kept:
        return found
    latest = max(kept, key=lambda cp: cp.size)
    found.kept_size = latest.size
    if latest.size > report.last_seq:
        found.outcome = "entries_lost"
        found.lost = latest.size - report.last_seq
        found.first_lost, found.last_lost = report.last_seq + 1, latest.size
        return found
    roots = _roots(session, {cp.size for cp in kept})
    if any(roots.get(cp.size) != cp.root for cp in kept):
        found.outcome = "does_not_extend"
        return found
    found.outcome = "complete"
    return found


def _roots(session: Session, sizes: set[int], chunk: int = 50_000) -> dict[int, bytes]:
    """Recompute the tree roots at ``sizes`` from the (verified) entry hashes."""
    tracker = RootTracker(set(sizes))
    last, top = 0, max(sizes)
    while last < top:
        rows = session.execute(
            select(LedgerEntry.seq, LedgerEntry.hash)
            .where(LedgerEntry.seq > last, LedgerEntry.seq <= top)
            .order_by(LedgerEntry.seq)
            .limit(chunk)
        ).all()
        if not rows:
            break
        for _seq, digest in rows:
            tracker.add(str(digest))
        last = int(rows[-1][0])
    return tracker.roots
