"""Ledger benchmark: single and batched appends, verification, append cost as the ledger grows.

    python -m bench.bench_ledger [--large 1000000] [--no-pg]

Baselines measured in the same run: a plain SQLAlchemy Core insert + commit of a row of the
same size (single appends); a plain Core executemany of the rows a batch append writes
(entries, postings, tree nodes) into tables with a primary key and nothing else, one
transaction per batch (batched appends); plain SHA-256 over the same bytes (verification).
Appends and their baselines alternate (one single append, one plain insert, ...; one batch,
one plain batch, ...) and each reports its median, so a load that comes and goes on a
shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from collections.abc import Callable

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, text
from sqlalchemy.orm import Session

from bench.common import fresh_database, pg_available, rate, row
from ledger import store
from ledger.models import ENTRIES, POSTINGS, TREE_NODES, LedgerEntry
from ledger.verify import verify_entries

VOUCHERS = 1_000
BATCH = 5_000


def _setup(session: Session) -> None:
    store.open_account(session, "bank:1")
    store.open_account(session, "fund:1")
    store.open_accounts(session, [f"voucher:{i}" for i in range(VOUCHERS)], non_negative=True)
    store.open_account(session, "merchant:1:payable:1")
    store.append(session, "fund.deposit", [("bank:1", -(10**15)), ("fund:1", 10**15)])
    session.commit()


def _spec(i: int) -> store.NewEntry:
    return store.NewEntry(
        "voucher.issue",
        [("fund:1", -(1 + i % 500)), (f"voucher:{i % VOUCHERS}", 1 + i % 500)],
        {"fund": 1, "voucher": i % VOUCHERS, "import": 7},
    )


def _single_appends(engine, count: int, offset: int) -> float:  # type: ignore[no-untyped-def]
    return rate(count, lambda: _append_each(engine, count, offset), repeat=2)


def _paired(runs: list[Callable[[int], int]], rounds: int) -> list[float]:
    """Run each of ``runs`` (round number -> operations done) in turn, ``rounds`` times.

    Returns:
        Per run, the operations per second of its median round.
    """
    seconds: list[list[float]] = [[] for _ in runs]
    for r in range(rounds):
        for i, run in enumerate(runs):
            started = time.perf_counter()
            done = run(r)
            seconds[i].append((time.perf_counter() - started) / done)
    return [1 / statistics.median(s) for s in seconds]


def _single_vs_plain(engine, count: int, size: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Return the rates of single appends and of plain insert+commit, ``count`` of each."""
    meta = MetaData()
    t = Table(
        "bench_plain",
        meta,
        Column("id", Integer, primary_key=True),
        Column("kind", String(64)),
        Column("body", LargeBinary),
    )
    meta.create_all(engine)
    payload = b"x" * size

    def plain(_: int) -> int:
        with engine.begin() as conn:
            conn.execute(t.insert().values(kind="voucher.issue", body=payload))
        return 1

    def append(r: int) -> int:
        _append_each(engine, 1, r)
        return 1

    single, base = _paired([append, plain], count)
    meta.drop_all(engine)
    return single, base


def _append_each(engine, count: int, offset: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(count):
        spec = _spec(offset + i)
        with Session(engine) as s:
            store.append(s, spec.kind, spec.postings, meta=spec.meta)
            s.commit()


def _batched_vs_plain(engine, target: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Grow the ledger to ``target`` in batches; return their rate and the plain rate.

    The plain baseline writes the rows one batch wrote (entries, postings, tree nodes, as
    the driver returned them; keys shifted so each round writes new ones) by one DB-API
    executemany per table into tables with the same columns and primary keys and no other
    index, constraint or trigger, and commits.
    """
    meta = MetaData()
    tables = (ENTRIES, POSTINGS, TREE_NODES)
    plain = [
        Table(
            f"bench_plain_{t.name}",
            meta,
            *(Column(c.name, c.type, primary_key=c.primary_key, autoincrement=False) for c in t.c),
        )
        for t in tables
    ]
    meta.create_all(engine)
    with Session(engine) as s:
        first = store.head(s)[0] + 1
    _grow(engine, first - 1 + BATCH)  # the batch whose rows the baseline writes
    last = first - 1 + BATCH
    with engine.connect() as conn:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        inserts, rows = [], []
        for table, copy in zip(tables, plain, strict=True):
            names = [c.name for c in table.c]
            found = conn.execute(text(f"SELECT {', '.join(names)} FROM {table.name}")).all()
            if table is TREE_NODES:  # the nodes the batch completed
                found = [n for n in found if first <= (n.idx + 1) << n.level <= last]
            else:
                found = [r for r in found if first <= r.seq <= last]
            marks = ", ".join([mark] * len(names))
            inserts.append(f"INSERT INTO {copy.name} ({', '.join(names)}) VALUES ({marks})")
            key = names.index("idx" if table is TREE_NODES else "seq")
            rows.append((key, [tuple(r) for r in found]))
    have = last

    def batch(_: int) -> int:
        nonlocal have
        with Session(engine) as s:
            store.append_many(s, [_spec(have + i) for i in range(BATCH)])
            s.commit()
        have += BATCH
        return BATCH

    rounds = max(1, (target - have) // BATCH)
    shifted = [  # per round, made before the clock runs
        [[(*v[:key], v[key] + r * BATCH, *v[key + 1 :]) for v in values] for key, values in rows]
        for r in range(rounds)
    ]

    def plain_batch(r: int) -> int:
        with engine.begin() as conn:
            for sql, values in zip(inserts, shifted[r], strict=True):
                conn.exec_driver_sql(sql, values)
        return BATCH

    batched, base = _paired([batch, plain_batch], rounds)
    meta.drop_all(engine)
    return batched, base


def _grow(engine, target: int, batch: int = 5_000) -> float:  # type: ignore[no-untyped-def]
    """Append batches until the ledger holds ``target`` entries; return entries per second."""
    with Session(engine) as s:
        have = store.head(s)[0]
    start, added = time.perf_counter(), 0
    while have < target:
        n = min(batch, target - have)
        with Session(engine) as s:
            store.append_many(s, [_spec(have + i) for i in range(n)])
            s.commit()
        have += n
        added += n
    elapsed = time.perf_counter() - start
    return added / elapsed if elapsed else 0.0


def _verify_rates(engine) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        entries = list(store.stored_entries(s))
        t0 = time.perf_counter()
        report = store.verify(s)
        db_rate = len(entries) / (time.perf_counter() - t0)
    assert report.ok, report.problem
    bodies = [e.body for e in entries]
    sha = rate(len(bodies), lambda: [hashlib.sha256(b).hexdigest() for b in bodies])
    pure = rate(len(entries), lambda: verify_entries(entries))
    return pure, sha, db_rate, len(entries)


def run(kind: str, large: int) -> None:
    """Run every ledger measurement on one engine kind."""
    print(f"\n== ledger on {kind} ==")
    with fresh_database(kind, f"kp_bench_ledger_{os.getpid()}") as engine:
        with Session(engine) as s:
            _setup(s)
            body_size = len(s.get(LedgerEntry, 1).body)  # type: ignore[union-attr]
        single, base = _single_vs_plain(engine, 500, body_size)
        row(
            "single append (own transaction)",
            f"{single:,.0f} /s",
            f"baseline insert+commit {base:,.0f} /s -> ratio {single / base:.2f}",
        )
        _grow(engine, 10_000)
        at_small = _single_appends(engine, 300, 10**6)
        batched, plain = _batched_vs_plain(engine, 60_000)
        row(
            "batched append (5 000 per transaction)",
            f"{batched:,.0f} /s",
            f"plain executemany of its rows {plain:,.0f} /s -> ratio {batched / plain:.2f}",
        )
        pure, sha, db_rate, n = _verify_rates(engine)
        row(
            f"verify, pure ({n:,} entries in memory)",
            f"{pure:,.0f} /s",
            f"plain SHA-256 {sha:,.0f} /s -> ratio {pure / sha:.2f}",
        )
        row("verify, from the database", f"{db_rate:,.0f} /s")
        grow_rate = _grow(engine, large, batch=20_000)
        at_large = _single_appends(engine, 300, 2 * 10**6)
        with Session(engine) as s:
            size = store.head(s)[0]
        row(f"grew to {size:,} entries (20 000 per transaction)", f"{grow_rate:,.0f} /s")
        row("single append at 10 k entries", f"{at_small:,.0f} /s")
        row(
            f"single append at {size:,} entries",
            f"{at_large:,.0f} /s",
            f"cost at large / cost at 10 k = {at_small / at_large:.2f}",
        )


def main() -> None:
    """Parse arguments and run on SQLite, then PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    run("sqlite", args.large)
    if not args.no_pg and pg_available():
        run("postgresql", args.large)


if __name__ == "__main__":
    main()
