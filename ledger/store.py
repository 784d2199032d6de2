"""Persisting the ledger with SQLAlchemy: open accounts and append entries.

Reading (balances, head, verification) lives in :mod:`ledger.reading` and is re-exported
here, so callers use one module.

Appends are serialised on the single chain-head row: PostgreSQL takes ``SELECT ... FOR
UPDATE`` on it; SQLite takes the database write lock (the shell begins write transactions
with ``BEGIN IMMEDIATE``; the first statement here is a write to the head row, so even a
deferred transaction holds the lock before it reads). ``UNIQUE(seq)`` is the backstop.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from ledger import merkle, pipeline
from ledger.bulk import (
    COPY_MIN_ROWS,
    GC_PAUSE_MIN,
    bind_value,
    driver_sql,
    execute,
    gc_paused,
    insert_rows,
    insert_table_rows,
    select_in,
)
from ledger.encoding import (
    ACCOUNT_RE,
    KIND_RE,
    MAX_SAFE_INT,
    RECEIPT_PREFIX_RE,
    Posting,
    Template,
    check_value,
    content_key,
    decode,
    encode_fields,
    entry_template,
    fill_template,
    format_timestamp,
    receipt_text,
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
# written as "%s" for PostgreSQL by ``driver_sql``; ``{in}`` is filled in by ``select_in``.
_HEAD_LOCK_SQLITE = "UPDATE ledger_head SET seq = seq WHERE id = 1 RETURNING seq, hash, frontier"
_ENTRY_COLUMNS = ("seq", "kind", "created_at", "prev_hash", "hash", "body", "idempotency_key")
_POSTING_COLUMNS = ("seq", "pos", "account_id", "amount")
_UPDATE_BALANCE_SQL = "UPDATE ledger_balances SET balance = ?, last_seq = ? WHERE account_id = ?"
_UPDATE_HEAD_SQL = "UPDATE ledger_head SET seq = ?, hash = ?, frontier = ? WHERE id = 1"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What a caller asks to append."""

    kind: str
    postings: Sequence[tuple[str, int]]
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-safe metadata
    idempotency_key: str | None = None
    # A receipt numbered after the entry: with prefix "B", entry 123 gets
    # meta["receipt"] = "B-000123" (:func:`ledger.encoding.receipt_text`), made under the lock.
    receipt: str | None = None


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
    # The balances of this entry's accounts right after it (None for a replay).
    balances: dict[str, int] | None = field(default=None, compare=False)


class EntryField(str):
    """A column value an ``Along`` row takes from the entry just appended."""


SEQ = EntryField("seq")  # the entry's seq
HASH = EntryField("hash")  # its hash
RECEIPT = EntryField("receipt")  # its receipt number (the spec's ``receipt`` prefix and seq)

# A row written in the same round trip as the entry, after it: ``(table, column -> value)``,
# where a value may be SEQ, HASH or RECEIPT. Inserted with ``RETURNING id``.
Along = tuple[str, dict[str, Any]]


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
    with gc_paused(len(wanted) >= GC_PAUSE_MIN):
        _open_accounts(session.connection(), wanted, non_negative)


def _open_accounts(conn: Connection, wanted: list[str], non_negative: bool) -> None:
    for name in wanted:
        if not ACCOUNT_RE.match(name):
            raise InvalidEntry(f"bad account name {name!r}")
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


def append_with(
    session: Session,
    spec: NewEntry,
    along: Along,
    *,
    commit: bool = False,
    at: datetime | None = None,
) -> tuple[Appended, Any]:
    """Append one entry and write the caller's row that refers to it, in the same round trip.

    The row (e.g. a redemption carrying the entry's seq and hash) is written last, so the
    chain lock is held for as few round trips as possible. On PostgreSQL an entry without
    an idempotency key is appended by one server-side statement (``kp_ledger_append``,
    migration 0020): entry, row and (with ``commit``) the COMMIT go in one round trip, and
    the chain lock is held only while the server runs them.

    Args:
        session: the current transaction.
        spec: the entry.
        along: ``(table, column -> value)``; values SEQ, HASH and RECEIPT are the entry's.
        commit: this is the unit of work's last write: on PostgreSQL its COMMIT is sent in
            the same round trip (the chain lock is held to the commit). Elsewhere the caller
            commits as usual.
        at: timestamp (default now, UTC).

    Returns:
        The appended entry and the id of the row written.

    Raises:
        InvalidEntry, UnknownAccount, InsufficientBalance, IdempotencyConflict.
    """
    done, row = _append(session, [spec], at, along, commit)
    return done[0], None if row is None else row[0]


def append_many(
    session: Session, specs: Sequence[NewEntry], *, at: datetime | None = None
) -> list[Appended]:
    """Append many entries in the current transaction, all or nothing.

    On PostgreSQL a single entry without an idempotency key (a refund, a deposit) goes
    through ``kp_ledger_append`` in one round trip, as a payment's does (``append_with``).

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
    with gc_paused(len(specs) >= GC_PAUSE_MIN):
        return _append(session, specs, at, None)[0]


def _append(
    session: Session,
    specs: Sequence[NewEntry],
    at: datetime | None,
    along: Along | None,
    commit: bool = False,
) -> tuple[list[Appended], Any]:
    timestamp = format_timestamp(at or datetime.now(UTC))
    # Validated and encoded (all but seq and prev) before the chain lock is taken.
    prepared = [_validate(s, timestamp) for s in specs]
    conn = session.connection()
    names = sorted({p.account for s in prepared for p in s[1]})
    created = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    piped = conn.dialect.name == "postgresql" and len(prepared) < COPY_MIN_ROWS
    if piped and len(prepared) == 1:
        one = _on_server(session, conn, prepared[0], timestamp, created, along, commit)
        if one is not None:
            return one
    if piped:  # two round trips under the lock, the first also reads accounts and keys
        keys = [p[3] for p in prepared if p[3] is not None]
        started = time.perf_counter()
        head, accounts, found = pipeline.lock(conn, names, keys)
        _locked(session, started)
        _check_opened(names, accounts)
        replays = _replays(prepared, found)
    else:
        started = time.perf_counter()
        head = _lock_head(conn)
        _locked(session, started)
        replays = _find_replays(conn, prepared)
        accounts = _load_accounts(conn, names)
        _check_opened(names, accounts)
    batch = _Batch(int(head[0]), str(head[1]), merkle.decode_frontier(bytes(head[2])), accounts)
    results = batch.add_all(
        prepared, replays, timestamp, bind_value(conn, _entries.c.created_at, created)
    )
    row = None
    if batch.entry_rows:
        extra = None if along is None else _along(along, results[-1])
        if piped:
            row = pipeline.write(conn, *batch.rows(), extra, commit)
        else:
            batch.write(conn)
            if extra is not None:
                row = execute(conn, driver_sql(conn, extra[0]), extra[1]).fetchall()[0]
        _appended(session, batch.seq, len(batch.entry_rows))
    return results, row


def _appended(session: Session, size: int, count: int) -> None:
    """Note in the unit of work that it appended ``count`` entries, up to tree ``size``."""
    info = session.info
    info["ledger_appended"] = True  # lets the unit of work checkpoint when due
    info["ledger_size"] = size  # the tree size after this unit of work
    # How many this unit of work appended (bulk loads roll up reports).
    info["ledger_appended_entries"] = info.get("ledger_appended_entries", 0) + count


def _on_server(
    session: Session,
    conn: Connection,
    prepared: _Prepared,
    timestamp: str,
    created: datetime,
    along: Along | None,
    commit: bool,
) -> tuple[list[Appended], Any] | None:
    """Append one key-less entry with ``kp_ledger_append`` (PostgreSQL); None: not this one.

    The entry's bytes are encoded here but for seq, prev and the receipt number, which the
    server fills in under the chain lock; the receipt's place in the bytes is found by
    encoding the metadata with a random marker in its stead.
    """
    kind, postings, meta, key, template, receipt = prepared
    accounts = [p.account for p in postings]
    if key is not None or len(set(accounts)) != len(accounts):
        return None
    middle = ""
    if receipt is not None:
        marker = secrets.token_hex(16)
        template = entry_template(kind, timestamp, postings, {**meta, "receipt": marker}, key)
        if template is None:
            return None
        head, _, middle = template.head.partition(marker)
    elif template is None:
        return None
    else:
        head = template.head
    started = time.perf_counter()
    try:
        seq, digest, after, row = pipeline.append_one(
            conn,
            (kind, created, head.encode(), receipt, middle.encode(), template.tail.encode()),
            accounts,
            [p.amount for p in postings],
            None if along is None else _along_on_server(along, receipt),
            commit,
        )
    except pipeline.Refusal as refused:
        raise _refusal(refused) from None
    _locked(session, started)  # held from the round trip's start: an upper bound
    if receipt is not None:
        meta = {**meta, "receipt": receipt_text(receipt, seq)}
    balances = dict(zip(accounts, after, strict=True))
    _appended(session, seq, 1)
    done = Appended(seq, digest, kind, timestamp, postings, meta, None, False, balances)
    return [done], row


def _refusal(refused: pipeline.Refusal) -> LedgerError:
    """Return the ledger error of a refusal ``kp_ledger_append`` raised."""
    account = refused.account
    if refused.code == "KP001":
        return UnknownAccount(f"account {account} was never opened", account=account)
    if refused.code == "KP002":
        balance, amount = (int(v) for v in refused.detail.split())
        return InsufficientBalance(account, balance, amount)
    return LedgerError(account)


def _along(along: Along, done: Appended) -> tuple[str, tuple[Any, ...]]:
    """Return the INSERT of an ``Along`` row after a Python append (``?`` markers)."""
    table, row = along
    fields = {SEQ: done.seq, HASH: done.hash, RECEIPT: done.meta.get("receipt")}
    if _takes_receipt(row) and fields[RECEIPT] is None:
        raise InvalidEntry("a row takes the receipt number of an entry without one")
    values = tuple(fields[v] if isinstance(v, EntryField) else v for v in row.values())
    return _along_sql(table, tuple(row), f"VALUES ({', '.join('?' * len(row))})"), values


def _along_on_server(along: Along, receipt: str | None) -> tuple[str, tuple[Any, ...]]:
    """Return the INSERT of an ``Along`` row after ``kp_ledger_append``, in its transaction.

    The entry's seq and hash are the chain head's, which the function has just written
    under the lock; its receipt number is the one the function left in ``kp.receipt``.
    """
    table, row = along
    if _takes_receipt(row) and receipt is None:
        raise InvalidEntry("a row takes the receipt number of an entry without one")
    server = {SEQ: "h.seq", HASH: "h.hash", RECEIPT: "current_setting('kp.receipt')"}
    exprs = ", ".join(server[v] if isinstance(v, EntryField) else "?" for v in row.values())
    values = tuple(v for v in row.values() if not isinstance(v, EntryField))
    rows = f"SELECT {exprs} FROM ledger_head h WHERE h.id = 1"  # noqa: S608 - fixed text
    return _along_sql(table, tuple(row), rows), values


def _takes_receipt(row: dict[str, Any]) -> bool:
    return any(v is RECEIPT for v in row.values())


@lru_cache(maxsize=64)
def _along_sql(table: str, columns: tuple[str, ...], rows: str) -> str:
    """Return ``INSERT INTO table (columns) <rows> RETURNING id``."""
    return f"INSERT INTO {table} ({', '.join(columns)}) {rows} RETURNING id"


def _check_opened(names: Sequence[str], accounts: dict[str, Any]) -> None:
    missing = [n for n in names if n not in accounts]
    if missing:
        raise UnknownAccount(f"account {missing[0]} was never opened", account=missing[0])


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
        for (kind, postings, meta, key, template, receipt), replay in zip(
            prepared, replays, strict=True
        ):
            if replay is not None:
                results.append(replay)
                continue
            if receipt is not None:
                meta = {**meta, "receipt": receipt_text(receipt, seq + 1)}
                template = entry_template(kind, timestamp, postings, meta, key)
            for account, amount in postings:
                new = balances[account] + amount
                if new < 0 and accounts[account][2]:
                    raise InsufficientBalance(account, balances[account], amount)
                balances[account] = new
            seq += 1
            body = None if template is None else fill_template(template, seq, prev)
            if body is None:
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
            after = {a: balances[a] for a, _ in postings}
            results.append(
                Appended(seq, digest, kind, timestamp, postings, meta, key, False, after)
            )
            prev = digest
        self.seq, self.prev, self.frontier = seq, prev, frontier
        return results

    def rows(self) -> tuple[list[Any], list[Any], list[Any], list[Any], tuple[Any, ...]]:
        """Return entry, posting, node, balance rows and the new head, ready to write."""
        balances = [(self.accounts[n][0], self.balances[n], s) for n, s in self.touched.items()]
        head = (self.seq, self.prev, merkle.encode_frontier(self.frontier))
        return self.entry_rows, self.posting_rows, self.node_rows, balances, head

    def write(self, conn: Connection) -> None:
        """Insert entries, postings and tree nodes; update balances and the chain head."""
        entries, postings, nodes, balances, head = self.rows()
        insert_rows(conn, "ledger_entries", _ENTRY_COLUMNS, entries)
        insert_rows(conn, "ledger_postings", _POSTING_COLUMNS, postings)
        if nodes:
            insert_rows(conn, "ledger_tree_nodes", ("level", "idx", "hash"), nodes)
        _update_balances(conn, balances)
        execute(conn, driver_sql(conn, _UPDATE_HEAD_SQL), head)


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
        execute(conn, pipeline.UPDATE_BALANCES, (ids, amounts, lasts, ids))
        return
    sql = driver_sql(conn, _UPDATE_BALANCE_SQL)
    execute(conn, sql, [(b, s, a) for a, b, s in rows], many=True)


# --- internals -----------------------------------------------------------------------------


# kind, postings, meta, key, the entry's bytes but for seq and prev (None: a receipt, made
# under the lock, or values only the reference encoder writes), and the receipt prefix.
_Prepared = tuple[str, tuple[Posting, ...], dict[str, Any], str | None, Template | None, str | None]
_KINDS_OK: set[str] = set()  # kinds that passed KIND_RE, so repeats skip the regex


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _validate(spec: NewEntry, timestamp: str) -> _Prepared:
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
    meta = _checked_meta(dict(spec.meta))
    key = spec.idempotency_key
    if key is not None and not (1 <= len(key) <= 160):
        raise InvalidEntry("idempotency key must be 1 to 160 characters")
    receipt = spec.receipt
    if receipt is not None and not RECEIPT_PREFIX_RE.match(receipt):
        raise InvalidEntry(f"bad receipt prefix {receipt!r}")
    if receipt is not None and "receipt" in meta:
        raise InvalidEntry("metadata names a receipt and the ledger numbers one")
    legs = tuple(postings)
    template = None if receipt else entry_template(kind, timestamp, legs, meta, key)
    return kind, legs, meta, key, template, receipt


def _checked_meta(meta: dict[str, Any]) -> dict[str, Any]:
    try:
        check_value(meta)
    except ValueError as exc:
        raise InvalidEntry(str(exc)) from None
    return meta


_lock_wait_hooks: list[Callable[[float], None]] = []


def on_lock_wait(hook: Callable[[float], None]) -> None:
    """Call ``hook(seconds)`` with the time each append waited for the chain-head lock.

    Args:
        hook: a quick function (metrics); it must not raise or touch the database.
    """
    if hook not in _lock_wait_hooks:
        _lock_wait_hooks.append(hook)


_lock_hold_hooks: list[Callable[[float], None]] = []


def on_lock_hold(hook: Callable[[float], None]) -> None:
    """Call ``hook(seconds)`` with how long each unit of work that appended held the chain lock.

    PostgreSQL: from the head row lock to the end of the commit. SQLite: from the start of
    the write transaction (``BEGIN IMMEDIATE`` takes the database's one write lock) to the
    end of the commit.

    Args:
        hook: a quick function (metrics); it must not raise or touch the database.
    """
    if not _lock_hold_hooks:
        event.listen(Session, "after_begin", _began)
        event.listen(Session, "after_commit", _released)
        event.listen(Session, "after_rollback", _released)
    if hook not in _lock_hold_hooks:
        _lock_hold_hooks.append(hook)


def _began(session: Session, _transaction: Any, connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        session.info["ledger_began"] = time.perf_counter()


def _locked(session: Session, started: float) -> None:
    """Note that this unit of work holds the chain lock now (it waited since ``started``)."""
    now = time.perf_counter()
    for hook in _lock_wait_hooks:
        hook(now - started)
    if _lock_hold_hooks and "ledger_locked_at" not in session.info:
        session.info["ledger_locked_at"] = session.info.get("ledger_began", now)


def _released(session: Session) -> None:
    began = session.info.pop("ledger_locked_at", None)
    session.info.pop("ledger_began", None)
    if began is not None:
        held = time.perf_counter() - began
        for hook in _lock_hold_hooks:
            hook(held)


def _lock_head(conn: Connection) -> Any:
    """Take the chain-head lock and return the head row ``(seq, hash, frontier)``."""
    if conn.dialect.name == "sqlite":
        # A write first: takes SQLite's write lock (waits on busy_timeout) before any read.
        return execute(conn, _HEAD_LOCK_SQLITE).fetchall()[0]
    return execute(conn, pipeline.HEAD_FOR_UPDATE).fetchone()


def _find_replays(conn: Connection, prepared: list[_Prepared]) -> list[Appended | None]:
    keys = [p[3] for p in prepared if p[3] is not None]
    if not keys:
        return [None] * len(prepared)
    if len(set(keys)) != len(keys):
        raise InvalidEntry("the same idempotency key twice in one batch")
    return _replays(prepared, select_in(conn, pipeline.ENTRIES_BY_KEY, keys))


def _replays(prepared: list[_Prepared], rows: Sequence[Any]) -> list[Appended | None]:
    """Match ``(key, seq, hash, body)`` rows of stored entries to the specs with those keys."""
    keys = [p[3] for p in prepared if p[3] is not None]
    if len(set(keys)) != len(keys):
        raise InvalidEntry("the same idempotency key twice in one batch")
    found: dict[str, tuple[int, str, bytes]] = {
        str(r[0]): (int(r[1]), str(r[2]), bytes(r[3])) for r in rows
    }
    if not found:
        return [None] * len(prepared)
    out: list[Appended | None] = []
    for kind, postings, meta, key, _, receipt in prepared:
        if key is None or key not in found:
            out.append(None)
            continue
        seq, digest, body = found[key]
        b = decode(body)
        if receipt is not None:
            meta = {**meta, "receipt": receipt_text(receipt, seq)}
        if content_key(b.kind, b.postings, b.meta) != content_key(kind, postings, meta):
            raise IdempotencyConflict(
                f"idempotency key {key!r} was used for a different entry ({seq})", seq=seq
            )
        out.append(Appended(seq, digest, b.kind, b.timestamp, b.postings, b.meta, key, True))
    return out


def _load_accounts(conn: Connection, names: Sequence[str]) -> dict[str, tuple[int, int, bool]]:
    return {
        str(r[0]): (int(r[1]), int(r[2]), bool(r[3]))
        for r in select_in(conn, pipeline.ACCOUNTS_BY_NAME, names)
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
    "append_with",
    "balance",
    "balances",
    "gc_paused",
    "get_entry",
    "head",
    "insert_rows",
    "insert_table_rows",
    "on_lock_hold",
    "on_lock_wait",
    "open_account",
    "open_accounts",
    "stored_entries",
    "verify",
]
