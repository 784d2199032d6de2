"""Persisting the ledger with SQLAlchemy: open accounts and append entries.

Reading (balances, head, verification) lives in :mod:`ledger.reading` and is re-exported
here, so callers use one module.

Appends are serialised on the single chain-head row: PostgreSQL takes ``SELECT ... FOR
UPDATE`` on it; SQLite takes the database write lock (the shell begins write transactions
with ``BEGIN IMMEDIATE``; the first statement here is a write to the head row, so even a
deferred transaction holds the lock before it reads). ``UNIQUE(seq)`` is the backstop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ledger import merkle
from ledger.bulk import bind_value, driver_sql, insert_rows, insert_table_rows, select_in
from ledger.encoding import (
    ACCOUNT_RE,
    KIND_RE,
    MAX_SAFE_INT,
    Posting,
    check_value,
    content_key,
    decode,
    encode_fields,
    format_timestamp,
)
from ledger.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidEntry,
    LedgerError,
    UnknownAccount,
)
from ledger.models import ACCOUNTS as _accounts
from ledger.models import BALANCES as _balances
from ledger.models import ENTRIES as _entries
from ledger.reading import balance, balances, head, stored_entries, verify

# The append path sends plain SQL on the session's connection, skipping the SQL expression
# layer: an append is a handful of statements and their Python overhead dominates. "?" is
# written as "%s" for PostgreSQL by ``_sql``; ``{in}`` is filled in by ``_select_in``.
_HEAD_LOCK_SQLITE = "UPDATE ledger_head SET seq = seq WHERE id = 1 RETURNING seq, hash, frontier"
_HEAD_FOR_UPDATE = "SELECT seq, hash, frontier FROM ledger_head WHERE id = 1 FOR UPDATE"
_ACCOUNTS_BY_NAME = (
    "SELECT a.name, a.id, b.balance, b.non_negative FROM ledger_accounts a"
    " JOIN ledger_balances b ON a.id = b.account_id WHERE a.name {in}"
)
_ENTRIES_BY_KEY = (
    "SELECT idempotency_key, seq, hash, body FROM ledger_entries WHERE idempotency_key {in}"
)
_ENTRY_COLUMNS = ("seq", "kind", "created_at", "prev_hash", "hash", "body", "idempotency_key")
_POSTING_COLUMNS = ("seq", "pos", "account_id", "amount")
_UPDATE_BALANCE_SQL = "UPDATE ledger_balances SET balance = ?, last_seq = ? WHERE account_id = ?"
_UPDATE_BALANCES_PG = (
    "UPDATE ledger_balances AS b SET balance = v.bal, last_seq = v.last"
    " FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS v(aid, bal, last)"
    " WHERE b.account_id = v.aid"
)
_UPDATE_HEAD_SQL = "UPDATE ledger_head SET seq = ?, hash = ?, frontier = ? WHERE id = 1"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What a caller asks to append."""

    kind: str
    postings: Sequence[tuple[str, int]]
    meta: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    """An entry as appended (or found again through its idempotency key)."""

    seq: int
    hash: str
    kind: str
    timestamp: str
    postings: tuple[Posting, ...]
    meta: dict[str, Any]
    idempotency_key: str | None
    replayed: bool = False


def open_account(session: Session, name: str, *, non_negative: bool = False) -> int:
    """Open the account ``name`` (idempotent) and return its id.

    Args:
        session: the current transaction.
        name: account name such as ``voucher:17``.
        non_negative: refuse any entry that would take it below zero.

    Returns:
        The account id.
    """
    if not ACCOUNT_RE.match(name):
        raise InvalidEntry(f"bad account name {name!r}")
    found = session.execute(select(_accounts.c.id).where(_accounts.c.name == name)).scalar()
    if found is not None:
        return int(found)
    account_id = session.execute(
        _accounts.insert()
        .values(name=name, non_negative=non_negative, created_at=datetime.now(UTC))
        .returning(_accounts.c.id)
    ).scalar_one()
    session.execute(
        _balances.insert().values(
            account_id=account_id, balance=0, non_negative=non_negative, last_seq=0
        )
    )
    return int(account_id)


def open_accounts(session: Session, names: Iterable[str], *, non_negative: bool = False) -> None:
    """Open many accounts at once (bulk issuance); existing ones are left as they are.

    Args:
        session: the current transaction.
        names: account names.
        non_negative: flag for the new accounts.
    """
    wanted = sorted(set(names))
    for name in wanted:
        if not ACCOUNT_RE.match(name):
            raise InvalidEntry(f"bad account name {name!r}")
    conn = session.connection()
    existing = {
        str(r[0])
        for r in select_in(conn, "SELECT name FROM ledger_accounts WHERE name {in}", wanted)
    }
    new = [n for n in wanted if n not in existing]
    if not new:
        return
    created = bind_value(conn, _accounts.c.created_at, datetime.now(UTC))
    insert_rows(
        conn,
        "ledger_accounts",
        ("name", "non_negative", "created_at"),
        [(n, non_negative, created) for n in new],
    )
    ids = select_in(conn, "SELECT id FROM ledger_accounts WHERE name {in}", new)
    insert_rows(
        conn,
        "ledger_balances",
        ("account_id", "balance", "non_negative", "last_seq"),
        [(int(r[0]), 0, non_negative, 0) for r in ids],
    )


def append(
    session: Session,
    kind: str,
    postings: Sequence[tuple[str, int]],
    *,
    meta: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Appended:
    """Append one entry atomically and return it.

    Args:
        session: the current transaction; the caller's unit of work commits it.
        kind: entry kind, e.g. ``redemption``.
        postings: ``(account, cents)`` pairs summing to zero, at least two.
        meta: JSON-safe metadata hashed with the entry (no floats).
        idempotency_key: the same key with the same content returns the first entry.
        at: timestamp (default now, UTC).

    Returns:
        The appended entry, or the earlier one when the key was seen with equal content.

    Raises:
        InvalidEntry, UnknownAccount, InsufficientBalance, IdempotencyConflict.
    """
    return append_many(session, [NewEntry(kind, postings, meta or {}, idempotency_key)], at=at)[0]


def append_many(
    session: Session, specs: Sequence[NewEntry], *, at: datetime | None = None
) -> list[Appended]:
    """Append many entries in the current transaction, all or nothing.

    Args:
        session: the current transaction.
        specs: the entries to append, in order.
        at: one timestamp for all (default now, UTC).

    Returns:
        One ``Appended`` per spec, in order.

    Raises:
        InvalidEntry, UnknownAccount, InsufficientBalance, IdempotencyConflict; nothing is
        written when any of them is raised.
    """
    if not specs:
        return []
    prepared = [_validate(s) for s in specs]
    conn = session.connection()
    head = _lock_head(conn)
    replays = _find_replays(conn, prepared)
    names = sorted({p.account for s in prepared for p in s[1]})
    accounts = _load_accounts(conn, names)
    missing = [n for n in names if n not in accounts]
    if missing:
        raise UnknownAccount(f"account {missing[0]} was never opened", account=missing[0])
    timestamp = format_timestamp(at or datetime.now(UTC))
    created = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    batch = _Batch(int(head[0]), str(head[1]), merkle.decode_frontier(bytes(head[2])), accounts)
    results = batch.add_all(
        prepared, replays, timestamp, bind_value(conn, _entries.c.created_at, created)
    )
    if batch.entry_rows:
        batch.write(conn)
        session.info["ledger_appended"] = True  # lets the unit of work checkpoint when due
    return results


class _Batch:
    """The rows one ``append_many`` call writes, built in memory before any write."""

    def __init__(
        self,
        seq: int,
        prev: str,
        frontier: list[bytes],
        accounts: dict[str, tuple[int, int, bool]],
    ) -> None:
        self.seq, self.prev, self.frontier, self.accounts = seq, prev, frontier, accounts
        self.balances = {n: a[1] for n, a in accounts.items()}
        self.touched: dict[str, int] = {}
        self.entry_rows: list[tuple[Any, ...]] = []
        self.posting_rows: list[tuple[int, int, int, int]] = []
        self.node_rows: list[tuple[int, int, bytes]] = []

    def add_all(
        self,
        prepared: list[_Prepared],
        replays: list[Appended | None],
        timestamp: str,
        created: Any,
    ) -> list[Appended]:
        """Check balances, chain and hash every entry; raise before anything is written."""
        results: list[Appended] = []
        accounts, balances, touched = self.accounts, self.balances, self.touched
        entry_rows, posting_rows, node_rows = self.entry_rows, self.posting_rows, self.node_rows
        seq, prev, frontier = self.seq, self.prev, self.frontier
        frontier_append, leaf_hash = merkle.frontier_append, merkle.leaf_hash
        for (kind, postings, meta, key), replay in zip(prepared, replays, strict=True):
            if replay is not None:
                results.append(replay)
                continue
            for account, amount in postings:
                new = balances[account] + amount
                if new < 0 and accounts[account][2]:
                    raise InsufficientBalance(account, balances[account], amount)
                balances[account] = new
            seq += 1
            body = encode_fields(seq, prev, kind, timestamp, postings, meta, key)
            raw = sha256(body).digest()
            digest = raw.hex()
            entry_rows.append((seq, kind, created, prev, digest, body, key))
            for pos, (account, amount) in enumerate(postings):
                posting_rows.append((seq, pos, accounts[account][0], amount))
                touched[account] = seq
            frontier, completed = frontier_append(frontier, seq - 1, leaf_hash(raw))
            if completed:
                node_rows.extend(completed)
            results.append(Appended(seq, digest, kind, timestamp, postings, meta, key))
            prev = digest
        self.seq, self.prev, self.frontier = seq, prev, frontier
        return results

    def write(self, conn: Connection) -> None:
        """Insert entries, postings and tree nodes; update balances and the chain head."""
        insert_rows(conn, "ledger_entries", _ENTRY_COLUMNS, self.entry_rows)
        insert_rows(conn, "ledger_postings", _POSTING_COLUMNS, self.posting_rows)
        if self.node_rows:
            insert_rows(conn, "ledger_tree_nodes", ("level", "idx", "hash"), self.node_rows)
        _update_balances(
            conn,
            [(self.accounts[n][0], self.balances[n], last) for n, last in self.touched.items()],
        )
        params = (self.seq, self.prev, merkle.encode_frontier(self.frontier))
        conn.exec_driver_sql(driver_sql(conn, _UPDATE_HEAD_SQL), params)


def get_entry(session: Session, seq: int) -> Appended | None:
    """Return entry ``seq`` decoded from its hashed bytes, or None.

    Args:
        session: a transaction.
        seq: 1-based sequence number.

    Returns:
        The entry or None.
    """
    row = session.execute(
        select(_entries.c.hash, _entries.c.body).where(_entries.c.seq == seq)
    ).one_or_none()
    if row is None:
        return None
    b = decode(bytes(row.body))
    return Appended(
        b.seq, str(row.hash), b.kind, b.timestamp, b.postings, b.meta, b.idempotency_key
    )


def get_entry_bytes(session: Session, seq: int) -> tuple[str, bytes] | None:
    """Return ``(hash, the exact bytes that were hashed)`` of entry ``seq``, or None.

    Args:
        session: a transaction.
        seq: 1-based sequence number.

    Returns:
        The stored hash (hex) and body, or None.
    """
    row = session.execute(
        select(_entries.c.hash, _entries.c.body).where(_entries.c.seq == seq)
    ).one_or_none()
    return None if row is None else (str(row.hash), bytes(row.body))


def _update_balances(conn: Connection, rows: list[tuple[int, int, int]]) -> None:
    """Write ``(account id, balance, last seq)`` rows to the balance table."""
    if conn.dialect.name == "postgresql":
        ids, amounts, lasts = (list(c) for c in zip(*rows, strict=True))
        conn.exec_driver_sql(_UPDATE_BALANCES_PG, (ids, amounts, lasts))
        return
    conn.exec_driver_sql(driver_sql(conn, _UPDATE_BALANCE_SQL), [(b, s, a) for a, b, s in rows])


# --- internals -----------------------------------------------------------------------------


_Prepared = tuple[str, tuple[Posting, ...], dict[str, Any], str | None]
_KINDS_OK: set[str] = set()  # kinds that passed KIND_RE, so repeats skip the regex


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _validate(spec: NewEntry) -> _Prepared:
    kind = spec.kind
    if kind not in _KINDS_OK:
        if not KIND_RE.match(kind):
            raise InvalidEntry(f"bad entry kind {kind!r}")
        _KINDS_OK.add(kind)
    if len(spec.postings) < 2:
        raise InvalidEntry("an entry needs at least two postings")
    postings = []
    total = 0
    for account, amount in spec.postings:
        if type(amount) is not int:
            raise InvalidEntry(f"amount for {account} must be integer cents, not {amount!r}")
        if amount == 0:
            raise InvalidEntry(f"amount for {account} is zero")
        if not -MAX_SAFE_INT <= amount <= MAX_SAFE_INT:
            raise InvalidEntry(f"amount for {account} is out of range")
        postings.append(Posting(account, amount))
        total += amount
    if total != 0:
        raise InvalidEntry(f"postings sum to {total}, not 0")
    try:
        check_value(spec.meta)
    except ValueError as exc:
        raise InvalidEntry(str(exc)) from None
    key = spec.idempotency_key
    if key is not None and not (1 <= len(key) <= 160):
        raise InvalidEntry("idempotency key must be 1 to 160 characters")
    return kind, tuple(postings), dict(spec.meta), key


_lock_wait_hooks: list[Callable[[float], None]] = []


def on_lock_wait(hook: Callable[[float], None]) -> None:
    """Call ``hook(seconds)`` with the time each append waited for the chain-head lock.

    Args:
        hook: a quick function (metrics); it must not raise or touch the database.
    """
    if hook not in _lock_wait_hooks:
        _lock_wait_hooks.append(hook)


def _lock_head(conn: Connection) -> Any:
    """Take the chain-head lock and return the head row ``(seq, hash, frontier)``."""
    started = time.perf_counter()
    if conn.dialect.name == "sqlite":
        # A write first: takes SQLite's write lock (waits on busy_timeout) before any read.
        row = conn.exec_driver_sql(_HEAD_LOCK_SQLITE).one()
    else:
        row = conn.exec_driver_sql(_HEAD_FOR_UPDATE).one()
    waited = time.perf_counter() - started
    for hook in _lock_wait_hooks:
        hook(waited)
    return row


def _find_replays(conn: Connection, prepared: list[_Prepared]) -> list[Appended | None]:
    keys = [p[3] for p in prepared if p[3] is not None]
    if not keys:
        return [None] * len(prepared)
    if len(set(keys)) != len(keys):
        raise InvalidEntry("the same idempotency key twice in one batch")
    found: dict[str, tuple[int, str, bytes]] = {
        str(r[0]): (int(r[1]), str(r[2]), bytes(r[3]))
        for r in select_in(conn, _ENTRIES_BY_KEY, keys)
    }
    if not found:
        return [None] * len(prepared)
    out: list[Appended | None] = []
    for kind, postings, meta, key in prepared:
        if key is None or key not in found:
            out.append(None)
            continue
        seq, digest, body = found[key]
        b = decode(body)
        if content_key(b.kind, b.postings, b.meta) != content_key(kind, postings, meta):
            raise IdempotencyConflict(
                f"idempotency key {key!r} was used for a different entry ({seq})", seq=seq
            )
        out.append(Appended(seq, digest, b.kind, b.timestamp, b.postings, b.meta, key, True))
    return out


def _load_accounts(conn: Connection, names: Sequence[str]) -> dict[str, tuple[int, int, bool]]:
    return {
        str(r[0]): (int(r[1]), int(r[2]), bool(r[3]))
        for r in select_in(conn, _ACCOUNTS_BY_NAME, names)
    }


__all__ = [
    "Appended",
    "IdempotencyConflict",
    "InsufficientBalance",
    "InvalidEntry",
    "LedgerError",
    "NewEntry",
    "UnknownAccount",
    "append",
    "append_many",
    "balance",
    "balances",
    "get_entry",
    "head",
    "insert_rows",
    "insert_table_rows",
    "open_account",
    "open_accounts",
    "stored_entries",
    "verify",
]
