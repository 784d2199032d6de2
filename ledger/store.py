"""Persisting the ledger with SQLAlchemy: open accounts, append entries, read balances, verify.

Appends are serialised on the single chain-head row: PostgreSQL takes ``SELECT ... FOR
UPDATE`` on it; SQLite takes the database write lock (the shell begins write transactions
with ``BEGIN IMMEDIATE``; the first statement here is a write to the head row, so even a
deferred transaction holds the lock before it reads). ``UNIQUE(seq)`` is the backstop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from ledger import merkle
from ledger.encoding import (
    ACCOUNT_RE,
    KIND_RE,
    EntryBody,
    Posting,
    check_value,
    content_key,
    decode,
    encode,
    entry_hash,
    format_timestamp,
)
from ledger.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidEntry,
    LedgerError,
    UnknownAccount,
)
from ledger.models import (
    LedgerAccount,
    LedgerBalance,
    LedgerEntry,
    LedgerHead,
    LedgerPosting,
    LedgerTreeNode,
)
from ledger.verify import Problem, Report, StoredEntry, verify_entries

_accounts = cast(Table, LedgerAccount.__table__)
_entries = cast(Table, LedgerEntry.__table__)
_postings = cast(Table, LedgerPosting.__table__)
_balances = cast(Table, LedgerBalance.__table__)
_head = cast(Table, LedgerHead.__table__)
_nodes = cast(Table, LedgerTreeNode.__table__)

# Statements built once: the append path runs them on the session's connection, skipping
# the ORM layer (an append is a handful of statements; their Python overhead dominates).
_HEAD_FOR_UPDATE = (
    select(_head.c.seq, _head.c.hash, _head.c.frontier).where(_head.c.id == 1).with_for_update()
)
_HEAD_LOCK_SQLITE = (
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=_head.c.seq)
    .returning(_head.c.seq, _head.c.hash, _head.c.frontier)
)
_ACCOUNTS_BY_NAME = (
    select(_accounts.c.name, _accounts.c.id, _balances.c.balance, _balances.c.non_negative)
    .join(_balances, _accounts.c.id == _balances.c.account_id)
    .where(_accounts.c.name.in_(bindparam("names", expanding=True)))
)
_ENTRIES_BY_KEY = select(
    _entries.c.idempotency_key, _entries.c.seq, _entries.c.hash, _entries.c.body
).where(_entries.c.idempotency_key.in_(bindparam("keys", expanding=True)))
_ENTRY_COLUMNS = ("seq", "kind", "created_at", "prev_hash", "hash", "body", "idempotency_key")
_UPDATE_BALANCE = (
    _balances.update()
    .where(_balances.c.account_id == bindparam("aid"))
    .values(balance=bindparam("bal"), last_seq=bindparam("last"))
)
_UPDATE_HEAD = (
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("hash"), frontier=bindparam("frontier"))
)


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
    existing: set[str] = set()
    for chunk in _chunks(wanted, 500):
        existing.update(
            session.execute(select(_accounts.c.name).where(_accounts.c.name.in_(chunk))).scalars()
        )
    new = [n for n in wanted if n not in existing]
    if not new:
        return
    now = datetime.now(UTC)
    session.execute(
        _accounts.insert(),
        [{"name": n, "non_negative": non_negative, "created_at": now} for n in new],
    )
    ids: list[tuple[str, int]] = []
    for chunk in _chunks(new, 500):
        ids.extend(
            (str(r.name), int(r.id))
            for r in session.execute(
                select(_accounts.c.name, _accounts.c.id).where(_accounts.c.name.in_(chunk))
            )
        )
    session.execute(
        _balances.insert(),
        [
            {"account_id": i, "balance": 0, "non_negative": non_negative, "last_seq": 0}
            for _, i in ids
        ],
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
    seq, prev = int(head.seq), str(head.hash)
    frontier = merkle.decode_frontier(head.frontier)
    results: list[Appended] = []
    created_param = _bind_value(conn, _entries.c.created_at, created)
    entry_rows: list[tuple[Any, ...]] = []
    posting_rows: list[tuple[int, int, int, int]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    balances = {n: a[1] for n, a in accounts.items()}
    touched: dict[str, int] = {}
    for (kind, postings, meta, key), replay in zip(prepared, replays, strict=True):
        if replay is not None:
            results.append(replay)
            continue
        for p in postings:
            new = balances[p.account] + p.amount
            if new < 0 and accounts[p.account][2]:
                raise InsufficientBalance(p.account, balances[p.account], p.amount)
            balances[p.account] = new
        seq += 1
        body = encode(EntryBody(seq, prev, kind, timestamp, postings, meta, key))
        digest = entry_hash(body)
        entry_rows.append((seq, kind, created_param, prev, digest, body, key))
        for pos, p in enumerate(postings):
            posting_rows.append((seq, pos, accounts[p.account][0], p.amount))
            touched[p.account] = seq
        frontier, completed = merkle.frontier_append(
            frontier, seq - 1, merkle.leaf_hash(bytes.fromhex(digest))
        )
        node_rows.extend(completed)
        results.append(Appended(seq, digest, kind, timestamp, postings, meta, key))
        prev = digest

    if entry_rows:
        _bulk_insert(conn, "ledger_entries", _ENTRY_COLUMNS, entry_rows)
        _bulk_insert(conn, "ledger_postings", ("seq", "pos", "account_id", "amount"), posting_rows)
        if node_rows:
            _bulk_insert(conn, "ledger_tree_nodes", ("level", "idx", "hash"), node_rows)
        conn.execute(
            _UPDATE_BALANCE,
            [
                {"aid": accounts[n][0], "bal": balances[n], "last": last}
                for n, last in touched.items()
            ],
        )
        conn.execute(
            _UPDATE_HEAD, {"seq": seq, "hash": prev, "frontier": merkle.encode_frontier(frontier)}
        )
        session.info["ledger_appended"] = True  # lets the unit of work checkpoint when due
    return results


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


# --- internals -----------------------------------------------------------------------------


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _validate(spec: NewEntry) -> tuple[str, tuple[Posting, ...], dict[str, Any], str | None]:
    if not KIND_RE.match(spec.kind):
        raise InvalidEntry(f"bad entry kind {spec.kind!r}")
    if len(spec.postings) < 2:
        raise InvalidEntry("an entry needs at least two postings")
    postings = []
    for account, amount in spec.postings:
        if type(amount) is not int:
            raise InvalidEntry(f"amount for {account} must be integer cents, not {amount!r}")
        if amount == 0:
            raise InvalidEntry(f"amount for {account} is zero")
        if abs(amount) > 2**53 - 1:
            raise InvalidEntry(f"amount for {account} is out of range")
        postings.append(Posting(account, amount))
    total = sum(p.amount for p in postings)
    if total != 0:
        raise InvalidEntry(f"postings sum to {total}, not 0")
    try:
        check_value(spec.meta)
    except ValueError as exc:
        raise InvalidEntry(str(exc)) from None
    key = spec.idempotency_key
    if key is not None and not (1 <= len(key) <= 160):
        raise InvalidEntry("idempotency key must be 1 to 160 characters")
    return spec.kind, tuple(postings), dict(spec.meta), key


def _bind_value(conn: Connection, column: Any, value: Any) -> Any:
    """Return ``value`` as the driver wants it for ``column`` (e.g. SQLite datetimes as text)."""
    processor = column.type.bind_processor(conn.dialect)
    return processor(value) if processor else value


def _bulk_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert many rows with the driver's executemany (batch appends spend most time here)."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed names, no user input
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    conn.exec_driver_sql(sql, list(rows))


def _lock_head(conn: Connection) -> Any:
    """Take the chain-head lock and return the head row."""
    if conn.dialect.name == "sqlite":
        # A write first: takes SQLite's write lock (waits on busy_timeout) before any read.
        return conn.execute(_HEAD_LOCK_SQLITE).one()
    return conn.execute(_HEAD_FOR_UPDATE).one()


def _find_replays(
    conn: Connection, prepared: list[tuple[str, tuple[Posting, ...], dict[str, Any], str | None]]
) -> list[Appended | None]:
    keys = [p[3] for p in prepared if p[3] is not None]
    if not keys:
        return [None] * len(prepared)
    if len(set(keys)) != len(keys):
        raise InvalidEntry("the same idempotency key twice in one batch")
    found: dict[str, tuple[int, str, bytes]] = {}
    for chunk in _chunks(keys, 500):
        for r in conn.execute(_ENTRIES_BY_KEY, {"keys": list(chunk)}):
            found[str(r.idempotency_key)] = (int(r.seq), str(r.hash), bytes(r.body))
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
    out: dict[str, tuple[int, int, bool]] = {}
    for chunk in _chunks(names, 500):
        for r in conn.execute(_ACCOUNTS_BY_NAME, {"names": list(chunk)}):
            out[str(r.name)] = (int(r.id), int(r.balance), bool(r.non_negative))
    return out


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
    "open_account",
    "open_accounts",
    "verify",
]
