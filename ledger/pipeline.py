"""PostgreSQL append in two round trips under the chain-head lock (psycopg pipeline mode).

A small append (a payment, a refund) used to hold the chain-head row lock across a dozen
round trips: lock, idempotency keys, accounts, entry, postings, tree nodes, balances, head,
the caller's row. Here an append is two round trips before the commit, both under the lock:

1. ``SELECT ... FOR UPDATE`` on the head, with the accounts (ids, balances) and idempotency
   keys read in the same pipeline (their statements run after the lock is granted, so they
   see every append committed before it). When the append is the transaction's first
   statement, psycopg's ``BEGIN`` goes in this pipeline too;
2. one statement writing the entries, postings, tree nodes, balances and head (rows as
   VALUES lists, one statement text per batch shape, which psycopg prepares after five
   runs), and the caller's own row (``along``), sent at once.

Small lists go as scalar placeholders rather than arrays, which psycopg dumps element by
element in Python.

In between, Python fills seq and prev into the entry bytes (encoded before the lock) and
hashes them. Bulk appends (COPY) keep :meth:`ledger.store._Batch.write`.

One entry without an idempotency key goes in a single round trip instead
(:func:`append_one`): the server function ``kp_ledger_append`` (migration 0020) takes the
lock, fills in seq and prev, hashes and writes; the caller's row and the COMMIT follow in
the same pipeline, so no Python thread runs while the chain lock is held.

Driver errors come back as SQLAlchemy's, so callers catch ``IntegrityError`` as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

# The chain lock and the reads made under it (the store's Python path runs them too; its
# ``select_in`` fills ``{in}``, as ``_in`` does here).
HEAD_FOR_UPDATE = "SELECT seq, hash, frontier FROM ledger_head WHERE id = 1 FOR UPDATE"
ACCOUNTS_BY_NAME = (
    "SELECT a.name, a.id, b.balance, b.non_negative FROM ledger_accounts a"
    " JOIN ledger_balances b ON a.id = b.account_id WHERE a.name {in}"
)
ENTRIES_BY_KEY = (
    "SELECT idempotency_key, seq, hash, body FROM ledger_entries WHERE idempotency_key {in}"
)
# The ANY(ids) repeats the join so the planner reads just these rows by the key, not every
# balance into a hash table (for 5 000 among 100 000 accounts, a third of the time).
UPDATE_BALANCES = (
    "UPDATE ledger_balances AS b SET balance = v.bal, last_seq = v.last"
    " FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS v(aid, bal, last)"
    " WHERE b.account_id = v.aid AND b.account_id = ANY(%s::integer[])"
)
# Everything an append writes, in one statement: the server parses (after five runs of one
# shape, prepares) one statement instead of one per row, and psycopg sends one. Foreign keys
# are checked at the statement's end, when the entries are in.
_ENTRY = "(%s::bigint, %s, %s::timestamptz, %s, %s, %s::bytea, %s)"
_POSTING = "(%s::bigint, %s::smallint, %s::integer, %s::bigint)"
_NODE = "(%s::smallint, %s::bigint, %s::bytea)"
_BALANCE = "(%s::integer, %s::bigint, %s::bigint)"
_ROWS = (_ENTRY, _POSTING, _NODE, _BALANCE)


@lru_cache(maxsize=128)
def _write_sql(entries: int, postings: int, nodes: int, balances: int) -> str:
    """Return the one statement that writes a batch of this shape (placeholders only)."""
    e, p, n, b = (
        ", ".join([row] * k)
        for row, k in zip(_ROWS, (entries, postings, nodes, balances), strict=True)
    )
    tree = f" n AS (INSERT INTO ledger_tree_nodes (level, idx, hash) VALUES {n}),"  # noqa: S608
    return (
        "WITH e AS (INSERT INTO ledger_entries"  # noqa: S608 - placeholders only
        f" (seq, kind, created_at, prev_hash, hash, body, idempotency_key) VALUES {e}),"
        f" p AS (INSERT INTO ledger_postings (seq, pos, account_id, amount) VALUES {p}),"
        f"{tree if nodes else ''}"
        " b AS (UPDATE ledger_balances AS b SET balance = v.bal, last_seq = v.last"
        f" FROM (VALUES {b}) AS v(aid, bal, last) WHERE b.account_id = v.aid)"
        " UPDATE ledger_head SET seq = %s, hash = %s, frontier = %s WHERE id = 1"
    )


@lru_cache(maxsize=64)
def _in(sql: str, count: int) -> str:
    """Return ``sql`` with an ``IN`` list of ``count`` placeholders for its ``{in}``."""
    return sql.format(**{"in": "IN (" + ", ".join(["%s"] * count) + ")"})


def lock(
    conn: Connection, names: Sequence[str], keys: list[str]
) -> tuple[Any, dict[str, tuple[int, int, bool]], list[Any]]:
    """Take the head lock in one round trip that also reads the accounts and the keys.

    Args:
        conn: the transaction's connection (psycopg).
        names: the account names the entries post to.
        keys: their idempotency keys.

    Returns:
        The head row ``(seq, hash, frontier)``, ``name -> (id, balance, non_negative)`` of
        the opened accounts among ``names``, and ``(key, seq, hash, body)`` of the stored
        entries with one of ``keys``.
    """
    raw: Any = conn.connection.driver_connection
    try:
        with raw.pipeline():
            head = raw.execute(HEAD_FOR_UPDATE)
            accounts = raw.execute(_in(ACCOUNTS_BY_NAME, len(names)), names)
            found = raw.execute(_in(ENTRIES_BY_KEY, len(keys)), keys) if keys else None
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        raise DBAPIError.instance(HEAD_FOR_UPDATE, None, exc, conn.dialect.dbapi.Error) from exc  # type: ignore[union-attr]
    return (
        head.fetchone(),
        {str(r[0]): (int(r[1]), int(r[2]), bool(r[3])) for r in accounts.fetchall()},
        found.fetchall() if found is not None else [],
    )


_APPEND_ONE = (
    "SELECT entry_seq, entry_hash, new_balances FROM kp_ledger_append(%s, %s::timestamptz,"
    " %s::bytea, %s::text, %s::bytea, %s::bytea, %s::text[], %s::bigint[])"
)
_REFUSALS = frozenset({"KP001", "KP002", "KP003"})


class Refusal(Exception):
    """``kp_ledger_append`` refused: ``code`` KP001 unknown account, KP002 insufficient balance
    (``detail``: "balance amount"), KP003 a broken frontier; ``account`` is its message."""

    def __init__(self, code: str, account: str, detail: str) -> None:
        super().__init__(code, account)
        self.code, self.account, self.detail = code, account, detail


def append_one(
    conn: Connection,
    entry: tuple[str, Any, bytes, str | None, bytes, bytes],
    accounts: list[str],
    amounts: list[int],
    along: tuple[str, tuple[Any, ...]] | None,
    commit: bool = False,
) -> tuple[int, str, list[int], Any]:
    """Append one key-less entry, write the caller's row (and COMMIT) in one round trip.

    Args:
        conn: the transaction's connection (psycopg).
        entry: ``(kind, created_at, head, receipt prefix or None, middle, tail)``: the
            canonical bytes are ``head + receipt + middle + prev + '","seq":' + seq + tail``.
        accounts: the posting accounts, in order (distinct).
        amounts: their amounts.
        along: the caller's row, ``(sql with ? markers, values)``, RETURNING its id, or None.
        commit: send the transaction's COMMIT in the same round trip.

    Returns:
        ``(seq, hash, balances after, the row's first result row or None)``.

    Raises:
        Refusal: the function refused; nothing is written and the transaction goes on.
    """
    raw: Any = conn.connection.driver_connection
    statement = _APPEND_ONE
    try:
        with raw.pipeline():
            raw.execute("SAVEPOINT kp_append")  # a refusal leaves the transaction usable
            done = raw.execute(_APPEND_ONE, [*entry, accounts, amounts])
            # What follows the function is skipped when it refuses, its Parse included: so
            # psycopg must not count it as prepared (prepare=False), or a later run would
            # name a statement the server never prepared.
            raw.execute("RELEASE SAVEPOINT kp_append", prepare=False)
            extra = None
            if along is not None:
                statement = along[0]
                extra = raw.execute(along[0].replace("?", "%s"), along[1], prepare=False)
            if commit:
                statement = "COMMIT"
                raw.execute("COMMIT", prepare=False)
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        state = getattr(exc, "sqlstate", None)
        if state in _REFUSALS:  # nothing was written: back to before the append
            raw.execute("ROLLBACK TO SAVEPOINT kp_append")
            diag = exc.diag
            raise Refusal(state, diag.message_primary or "", diag.message_detail or "") from None
        raise DBAPIError.instance(statement, None, exc, conn.dialect.dbapi.Error) from exc  # type: ignore[union-attr]
    seq, digest, after = done.fetchone()
    return int(seq), str(digest), [int(b) for b in after], extra and extra.fetchone()


def write(
    conn: Connection,
    entries: list[tuple[Any, ...]],
    postings: list[tuple[Any, ...]],
    nodes: list[tuple[Any, ...]],
    balances: list[tuple[int, int, int]],
    head: tuple[Any, ...],
    along: tuple[str, tuple[Any, ...]] | None,
    commit: bool = False,
) -> Any:
    """Write one small batch and the caller's row in one round trip; return that row's result.

    With ``commit`` the transaction's COMMIT goes in the same round trip: the chain lock is
    released by the server, without waiting for this thread to run again. The driver then
    sees an idle connection, so the unit of work's own commit sends nothing.
    """
    raw: Any = conn.connection.driver_connection
    statement = _write_sql(len(entries), len(postings), len(nodes), len(balances))
    values = [v for rows in (entries, postings, nodes, balances) for row in rows for v in row]
    try:
        with raw.pipeline():
            raw.execute(statement, [*values, *head])
            extra = None
            if along is not None:
                statement = along[0]
                extra = raw.execute(along[0].replace("?", "%s"), along[1])
            if commit:
                statement = "COMMIT"
                raw.execute("COMMIT")
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        # Translated like SQLAlchemy does, so UNIQUE violations stay IntegrityError.
        raise DBAPIError.instance(statement, None, exc, conn.dialect.dbapi.Error) from exc  # type: ignore[union-attr]
    return None if extra is None or extra.description is None else extra.fetchone()
