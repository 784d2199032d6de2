"""Auditing the stored ledger's checkpoints, and exporting it for auditors (store side).

Split from :mod:`ledger.proofs` (which builds proofs and signs checkpoints); the pure
checks live in :mod:`ledger.export` and :mod:`ledger.treecheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.export import AuditReport, check_checkpoints, write_export
from ledger.models import ACCOUNTS as _accounts
from ledger.models import BALANCES as _balances
from ledger.proofs import Verifiers, consistency, list_checkpoints
from ledger.treecheck import RootTracker
from ledger.verify import Problem, Report


def verify_checkpoints(
    session: Session,
    verifiers: Verifiers,
    origin: str | None = None,
    *,
    chain: Report | None = None,
) -> AuditReport:
    """Check every stored checkpoint: signature, and its root against the recomputed one.

    Roots are recomputed from the entry hashes (never read from stored tree nodes). Two
    checkpoints whose roots both match the recomputation over the same entries are
    consistent by construction, so no stored consistency proof is needed as evidence.

    Args:
        session: a transaction (read only).
        verifiers: every checkpoint key ever used (old keys too, after a rotation).
        origin: when given, every checkpoint must carry it.
        chain: a passing ``store.verify(session, roots_at=<every checkpoint size>)``
            report, whose recomputed roots are used; else they are recomputed here.

    Returns:
        A report naming the first problem, if any.
    """
    from ledger.reading import leaf_hashes  # reading imports nothing from here

    stored = list(list_checkpoints(session))
    tracker = RootTracker({c.size for c in stored})
    if chain is None:
        for seq, digest in leaf_hashes(session):
            if seq != tracker.size + 1:
                return AuditReport(
                    0,
                    tracker.size,
                    Problem(
                        tracker.size + 1,
                        "missing",
                        f"expected entry {tracker.size + 1}, found {seq}",
                    ),
                )
            tracker.add(digest)
    else:
        tracker.roots, tracker.size = dict(chain.roots), chain.last_seq
    notes = [(c.size, c.note) for c in stored]
    report = check_checkpoints(notes, tracker, verifiers, origin)
    if report.problem is not None:
        return report
    for c in stored:
        if c.root != tracker.roots.get(c.size):
            return _fail(
                report,
                f"checkpoint {c.size}: root column says {c.root.hex()}, "
                f"the note and the entries say {tracker.roots.get(c.size, b'').hex()}",
            )
    return report


def _fail(report: AuditReport, message: str) -> AuditReport:
    """Return ``report`` with a checkpoint_inconsistent problem."""
    report.problem = Problem(None, "checkpoint_inconsistent", message)
    return report


def export_ledger(session: Session, directory: Path, vkeys: Sequence[str]) -> int:
    """Write the entries, checkpoints and keys to ``directory`` as plain files.

    Args:
        session: a transaction (read only).
        directory: target directory (created).
        vkeys: every checkpoint verifier key, as vkey strings.

    Returns:
        The number of entries written.
    """
    from ledger import store  # the store imports nothing from here

    stored = list(list_checkpoints(session))
    proofs = {
        (a.size, b.size): consistency(session, a.size, b.size)
        for a, b in pairwise(stored)
        if a.size > 0  # RFC 9162: no proof from the empty tree
    }
    accounts = [
        {"name": str(r.name), "non_negative": bool(r.non_negative), "balance": int(r.balance)}
        for r in session.execute(
            select(_accounts.c.name, _accounts.c.non_negative, _balances.c.balance)
            .join(_balances, _balances.c.account_id == _accounts.c.id)
            .order_by(_accounts.c.name)
        )
    ]
    return write_export(
        directory,
        store.stored_entries(session),
        [(c.size, c.note) for c in stored],
        proofs,
        vkeys,
        accounts,
    )


__all__ = ["export_ledger", "verify_checkpoints"]
