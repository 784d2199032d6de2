"""Reading the ledger: balances, the chain head, single entries, and full verification.

Split from :mod:`ledger.store` (which appends); ``store`` re-exports these for callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import ACCOUNTS as _accounts
from ledger.models import BALANCES as _balances
from ledger.models import ENTRIES as _entries
from ledger.models import HEAD as _head
from ledger.models import POSTINGS as _postings
from ledger.verify import Problem, Report, StoredEntry, verify_entries


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
        for r in rows:
            yield StoredEntry(
                r.seq, r.prev_hash, r.hash, bytes(r.body), legs.get(r.seq, []), r.kind
            )
        last = hi


def verify(session: Session) -> Report:
    """Recompute every hash, link, zero sum, balance and the Merkle frontier.

    Args:
        session: a transaction (read only).

    Returns:
        A report naming the first problem, if any.
    """
    non_negative = {
        str(n)
        for n in session.execute(
            select(_accounts.c.name).where(_accounts.c.non_negative.is_(True))
        ).scalars()
    }
    stored = {
        str(n): int(b)
        for n, b in session.execute(
            select(_accounts.c.name, _balances.c.balance).join(
                _balances, _accounts.c.id == _balances.c.account_id
            )
        )
    }
    report = verify_entries(
        stored_entries(session), non_negative=non_negative, expected_balances=stored
    )
    if report.ok:
        size, head_hash = head(session)
        if size != report.last_seq or head_hash != report.head_hash:
            report.problem = Problem(
                None, "head_mismatch", f"chain head says {size} entries, found {report.last_seq}"
            )
    return report


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
