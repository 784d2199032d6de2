"""Ledger benchmark: single and batched appends, verification, append cost as the ledger grows.

    python -m bench.bench_ledger [--large 1000000] [--no-pg]

Baselines measured in the same run: a plain SQLAlchemy Core insert + commit of a row of the
same size (for appends) and plain SHA-256 over the same bytes (for verification).
"""

from __future__ import annotations

import argparse
import hashlib
import time

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table
from sqlalchemy.orm import Session

from bench.common import fresh_database, pg_available, rate, row
from ledger import store
from ledger.models import LedgerEntry
from ledger.verify import verify_entries

VOUCHERS = 1_000


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
    def run() -> None:
        for i in range(count):
            with Session(engine) as s:
                store.append(
                    s,
                    _spec(offset + i).kind,
                    _spec(offset + i).postings,
                    meta=_spec(offset + i).meta,
                )
                s.commit()

    return rate(count, run, repeat=2)


def _baseline_inserts(engine, count: int, size: int) -> float:  # type: ignore[no-untyped-def]
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

    def run() -> None:
        for _ in range(count):
            with engine.begin() as conn:
                conn.execute(t.insert().values(kind="voucher.issue", body=payload))

    result = rate(count, run, repeat=2)
    meta.drop_all(engine)
    return result


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
    with fresh_database(kind, "kp_bench_ledger") as engine:
        with Session(engine) as s:
            _setup(s)
            body_size = len(s.get(LedgerEntry, 1).body)  # type: ignore[union-attr]
        base = _baseline_inserts(engine, 500, body_size)
        single = _single_appends(engine, 500, 0)
        row(
            "single append (own transaction)",
            f"{single:,.0f} /s",
            f"baseline insert+commit {base:,.0f} /s -> ratio {single / base:.2f}",
        )
        _grow(engine, 10_000)
        at_small = _single_appends(engine, 300, 10**6)
        batched = _grow(engine, 60_000)
        row("batched append (5 000 per transaction)", f"{batched:,.0f} /s")
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
