"""Reading the ledger: balances, the chain head, single entries, and full verification.

Split from :mod:`ledger.store` (which appends); ``store`` re-exports these for callers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import ACCOUNTS as _accounts
from ledger.models import BALANCES as _balances
from ledger.models import ENTRIES as _entries
from ledger.models import HEAD as _head
from ledger.models import POSTINGS as _postings
from ledger.models import TREE_NODES as _nodes
from ledger.treecheck import RootTracker, check_frontier, check_nodes, nodes_at_level
from ledger.verify import Problem, Report, StoredEntry, compare_balances, verify_entries


def balance(session: Session, account: str) -> int:
    """Return the balance of ``account`` in cents (0 for an account never opened).

    Args:
        session: a transaction.
        account: account name.

    Returns:
        Cents.
    """
    value = session.execute(
        select(_balances.c.balance)
        .join(_accounts, _accounts.c.id == _balances.c.account_id)
        .where(_accounts.c.name == account)
    ).scalar()
    return int(value or 0)


def balances(session: Session, accounts: Iterable[str]) -> dict[str, int]:
    """Return the balances of many accounts at once.

    Args:
        session: a transaction.
        accounts: account names.

    Returns:
        name -> cents, with 0 for accounts never opened.
    """
    names = list(dict.fromkeys(accounts))
    out = dict.fromkeys(names, 0)
    for chunk in _chunks(names, 500):
        for name, value in session.execute(
            select(_accounts.c.name, _balances.c.balance)
            .join(_balances, _accounts.c.id == _balances.c.account_id)
            .where(_accounts.c.name.in_(chunk))
        ):
            out[str(name)] = int(value)
    return out


def head(session: Session) -> tuple[int, str]:
    """Return ``(size, head hash)`` of the chain.

    Args:
        session: a transaction.

    Returns:
        Number of entries and the hash of the last one.
    """
    row = session.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).one()
    return int(row.seq), str(row.hash)


def column_time(value: datetime) -> str:
    """Return a created_at value in the encoder's timestamp form (naive values are UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def stored_entries(session: Session, *, chunk: int = 20_000) -> Iterator[StoredEntry]:
    """Yield every entry with its posting rows, in sequence order, a chunk at a time.

    Args:
        session: a transaction.
        chunk: entries fetched per round trip.

    Yields:
        Entries as stored.
    """
    names = {int(i): str(n) for i, n in session.execute(select(_accounts.c.id, _accounts.c.name))}
    last = 0
    while True:
        rows = session.execute(
            select(
                _entries.c.seq,
                _entries.c.prev_hash,
                _entries.c.hash,
                _entries.c.body,
                _entries.c.kind,
                _entries.c.idempotency_key,
                _entries.c.created_at,
            )
            .where(_entries.c.seq > last)
            .order_by(_entries.c.seq)
            .limit(chunk)
        ).all()
        if not rows:
            return
        hi = rows[-1].seq
        legs: dict[int, list[list[str | int]]] = {}
        for s, account_id, amount in session.execute(
            select(_postings.c.seq, _postings.c.account_id, _postings.c.amount)
            .where(_postings.c.seq > last, _postings.c.seq <= hi)
            .order_by(_postings.c.seq, _postings.c.pos)
        ):
            legs.setdefault(s, []).append([names.get(account_id, f"?{account_id}"), amount])
        times: dict[Any, str] = {}  # a batch shares one time: format it once
        for r in rows:
            created = times.get(r.created_at)
            if created is None:
                created = times[r.created_at] = column_time(r.created_at)
            yield StoredEntry(
                r.seq,
                r.prev_hash,
                r.hash,
                bytes(r.body),
                legs.get(r.seq, []),
                r.kind,
                r.idempotency_key,
                created,
            )
        last = hi


def verify(session: Session, *, roots_at: Collection[int] = ()) -> Report:
    """Check every entry strictly, the balances, the chain head, its frontier and the tree.

    Merkle roots are recomputed from the entry hashes; the stored tree nodes and the head
    frontier are compared with the recomputation, never used as evidence.

    Args:
        session: a transaction (read only).
        roots_at: tree sizes whose recomputed roots to return in ``report.roots``.

    Returns:
        A report naming the first problem, if any.
    """
    non_negative = {
        str(n)
        for n in session.execute(
            select(_accounts.c.name).where(_accounts.c.non_negative.is_(True))
        ).scalars()
    }
    stored: dict[str, int] = {}
    for name, amount, flag, account_flag in session.execute(
        select(
            _accounts.c.name,
            _balances.c.balance,
            _balances.c.non_negative,
            _accounts.c.non_negative,
        ).join(_balances, _accounts.c.id == _balances.c.account_id)
    ):
        if bool(flag) != bool(account_flag):
            return Report(
                problem=Problem(
                    None,
                    "flag_mismatch",
                    f"{name} is non-negative {bool(account_flag)} in accounts, "
                    f"{bool(flag)} in balances",
                )
            )
        stored[str(name)] = int(amount)
    tracker = RootTracker(set(roots_at), nodes=True)

    def fed(entries: Iterable[StoredEntry]) -> Iterator[StoredEntry]:
        for e in entries:
            yield e
            tracker.add(e.hash)  # after verify_entries took it: only checked hashes

    report = verify_entries(fed(stored_entries(session)), non_negative=non_negative)
    if not report.ok:
        return report
    report.roots = tracker.roots
    report.problem = _check_head(session, report, tracker) or compare_balances(
        report.balances, stored
    )
    return report


def _check_head(session: Session, report: Report, tracker: RootTracker) -> Problem | None:
    """Compare the head row, its frontier and the stored tree nodes with the recomputation."""
    row = session.execute(
        select(_head.c.seq, _head.c.hash, _head.c.frontier).where(_head.c.id == 1)
    ).one()
    if int(row.seq) != report.last_seq or str(row.hash) != report.head_hash:
        return Problem(
            None,
            "head_mismatch",
            f"chain head says {row.seq} entries ending in {row.hash}, "
            f"found {report.last_seq} ending in {report.head_hash}",
        )
    problem = check_frontier(tracker, bytes(row.frontier))
    if problem is not None:
        return problem
    levels = [int(lv) for lv in session.execute(select(_nodes.c.level).distinct()).scalars()]
    return check_nodes(
        tracker,
        levels,
        lambda level: _stored_level(session, level),
        lambda level: nodes_at_level((h for _, h in leaf_hashes(session)), level),
    )


def _stored_level(session: Session, level: int, chunk: int = 50_000) -> Iterator[tuple[int, bytes]]:
    """Yield ``(index, hash)`` of the stored nodes of ``level`` in index order."""
    last = -1
    while True:
        rows = session.execute(
            select(_nodes.c.idx, _nodes.c.hash)
            .where(_nodes.c.level == level, _nodes.c.idx > last)
            .order_by(_nodes.c.idx)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for index, node in rows:
            yield int(index), bytes(node)
        last = int(rows[-1].idx)


def leaf_hashes(session: Session, chunk: int = 50_000) -> Iterator[tuple[int, str]]:
    """Yield ``(seq, hash)`` of every stored entry in order, a chunk at a time."""
    last = 0
    while True:
        rows = session.execute(
            select(_entries.c.seq, _entries.c.hash)
            .where(_entries.c.seq > last)
            .order_by(_entries.c.seq)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for seq, digest in rows:
            yield int(seq), str(digest)
        last = int(rows[-1].seq)


def entry_bytes(
    session: Session, upto: int, *, after: int = 0, chunk: int = 20_000
) -> Iterator[bytes]:
    """Yield the stored (hashed) bytes of entries ``after+1``..``upto`` in order, in chunks.

    Args:
        session: a transaction.
        upto: the last entry wanted, e.g. a checkpoint's tree size.
        after: the entry before the first one wanted (0: from the start).
        chunk: entries fetched per round trip.

    Yields:
        Each entry's bytes, exactly as stored.
    """
    last = after
    while last < upto:
        rows = session.execute(
            select(_entries.c.seq, _entries.c.body)
            .where(_entries.c.seq > last, _entries.c.seq <= upto)
            .order_by(_entries.c.seq)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for _, body in rows:
            yield bytes(body)
        last = int(rows[-1].seq)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
