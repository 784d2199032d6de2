"""PostgreSQL append in two round trips under the chain-head lock (psycopg pipeline mode).

A small append (a payment, a refund) used to hold the chain-head row lock across a dozen
round trips: lock, idempotency keys, accounts, entry, postings, tree nodes, balances, head,
the caller's row. Here everything that does not need the lock is read before it (account
ids: they never change), and under it there are two round trips before the commit:

1. ``SELECT ... FOR UPDATE`` on the head, with the balances and idempotency keys read in the
   same pipeline (their statements run after the lock is granted, so they see every append
   committed before it);
2. the entries, postings, tree nodes, balances, head and the caller's own row (``along``),
   all sent at once.

The hashing happens in between, in Python. Bulk appends (COPY) keep :meth:`_Batch.write`.
Driver errors come back as SQLAlchemy's, so callers catch ``IntegrityError`` as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

_HEAD_FOR_UPDATE = "SELECT seq, hash, frontier FROM ledger_head WHERE id = 1 FOR UPDATE"
_ACCOUNT_IDS = (
    "SELECT a.name, a.id, b.non_negative FROM ledger_accounts a"
    " JOIN ledger_balances b ON a.id = b.account_id WHERE a.name = ANY(%s)"
)
_BALANCES = "SELECT account_id, balance FROM ledger_balances WHERE account_id = ANY(%s)"
_ENTRIES_BY_KEY = (
    "SELECT idempotency_key, seq, hash, body FROM ledger_entries WHERE idempotency_key = ANY(%s)"
)
_INSERT_ENTRY = (
    "INSERT INTO ledger_entries (seq, kind, created_at, prev_hash, hash, body, idempotency_key)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_POSTING = (
    "INSERT INTO ledger_postings (seq, pos, account_id, amount) VALUES (%s, %s, %s, %s)"
)
_INSERT_NODE = "INSERT INTO ledger_tree_nodes (level, idx, hash) VALUES (%s, %s, %s)"
_UPDATE_BALANCES = (
    "UPDATE ledger_balances AS b SET balance = v.bal, last_seq = v.last"
    " FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS v(aid, bal, last)"
    " WHERE b.account_id = v.aid"
)
_UPDATE_HEAD = "UPDATE ledger_head SET seq = %s, hash = %s, frontier = %s WHERE id = 1"


def account_ids(conn: Connection, names: Sequence[str]) -> dict[str, tuple[int, bool]]:
    """Return ``name -> (id, non_negative)`` of the opened accounts among ``names``."""
    rows = conn.exec_driver_sql(_ACCOUNT_IDS, (list(names),))
    return {str(r[0]): (int(r[1]), bool(r[2])) for r in rows}


def lock(
    conn: Connection, ids: list[int], keys: list[str]
) -> tuple[Any, dict[int, int], list[Any]]:
    """Take the head lock; return the head row, ``id -> balance`` and entries with ``keys``."""
    raw: Any = conn.connection.driver_connection
    try:
        with raw.pipeline():
            head = raw.execute(_HEAD_FOR_UPDATE)
            balances = raw.execute(_BALANCES, (ids,))
            found = raw.execute(_ENTRIES_BY_KEY, (keys,)) if keys else None
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        raise DBAPIError.instance(_HEAD_FOR_UPDATE, None, exc, conn.dialect.dbapi.Error) from exc  # type: ignore[union-attr]
    return (
        head.fetchone(),
        {int(r[0]): int(r[1]) for r in balances.fetchall()},
        found.fetchall() if found is not None else [],
    )


def write(
    conn: Connection,
    entries: list[tuple[Any, ...]],
    postings: list[tuple[Any, ...]],
    nodes: list[tuple[Any, ...]],
    balances: list[tuple[int, int, int]],
    head: tuple[Any, ...],
    along: tuple[str, tuple[Any, ...]] | None,
) -> Any:
    """Write one small batch and the caller's row in one round trip; return that row's result."""
    raw: Any = conn.connection.driver_connection
    statement = _INSERT_ENTRY
    try:
        with raw.pipeline(), raw.cursor() as cur:
            cur.executemany(_INSERT_ENTRY, entries)
            statement = _INSERT_POSTING
            cur.executemany(_INSERT_POSTING, postings)
            if nodes:
                cur.executemany(_INSERT_NODE, nodes)
            ids, amounts, lasts = (list(c) for c in zip(*balances, strict=True))
            cur.execute(_UPDATE_BALANCES, (ids, amounts, lasts))
            cur.execute(_UPDATE_HEAD, head)
            extra = None
            if along is not None:
                statement = along[0]
                extra = raw.execute(along[0].replace("?", "%s"), along[1])
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        # Translated like SQLAlchemy does, so UNIQUE violations stay IntegrityError.
        raise DBAPIError.instance(statement, None, exc, conn.dialect.dbapi.Error) from exc  # type: ignore[union-attr]
    return None if extra is None or extra.description is None else extra.fetchone()
