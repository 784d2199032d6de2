"""Benchmark the Merkle tree of the ledger: batch appends, proofs and checkpoints.

    .venv/bin/python bench/bench_proofs.py                 # SQLite file, 1 000 000 entries
    .venv/bin/python bench/bench_proofs.py --entries 200000
    .venv/bin/python bench/bench_proofs.py --pg            # PostgreSQL at 127.0.0.1:5432

Prints: batch-append throughput with the tree maintained; the extra cost of the tree on
append against the plain chain (same code with the tree steps switched off, fresh databases,
same run); inclusion-proof time against a plain entry lookup; checkpoint creation time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import nacl.signing
from sqlalchemy import Engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402
from ledger import merkle, proofs, store  # noqa: E402
from ledger.store import NewEntry  # noqa: E402

ORIGIN = "bench.kindpakket/ledger"
SIGNER = (ORIGIN, nacl.signing.SigningKey(bytes(32)))
VOUCHERS = 1000
SHOPS = 50


def fresh_db(pg: bool, tag: str) -> AbstractContextManager[Engine]:
    """Return a new, migrated database (SQLite file or PostgreSQL) as a context."""
    return fresh_database("postgresql" if pg else "sqlite", f"kpbench_{tag}")


def setup_accounts(session: Session) -> None:
    """Open the fund, vouchers and shops and give every voucher a budget."""
    store.open_accounts(session, ["bank:1", "fund:1"])
    store.open_accounts(session, [f"merchant:{m}:payable" for m in range(SHOPS)])
    store.open_accounts(session, [f"voucher:{v}" for v in range(VOUCHERS)], non_negative=True)
    store.append(session, "fund.deposit", [("bank:1", -(10**15)), ("fund:1", 10**15)])
    store.append_many(
        session,
        [
            NewEntry("voucher.issue", [("fund:1", -(10**9)), (f"voucher:{v}", 10**9)])
            for v in range(VOUCHERS)
        ],
    )
    session.commit()


def payments(start: int, count: int) -> list[NewEntry]:
    """Return ``count`` redemptions (voucher -> shop), deterministic from ``start``."""
    return [
        NewEntry(
            "redemption",
            [
                (f"voucher:{i % VOUCHERS}", -(100 + i % 900)),
                (f"merchant:{i % SHOPS}:payable", 100 + i % 900),
            ],
            {"shop": i % SHOPS},
        )
        for i in range(start, start + count)
    ]


def fill(engine: Engine, total: int, batch: int, progress: bool = False) -> float:
    """Append payments until the ledger holds ``total`` entries; return seconds spent appending."""
    spent = 0.0
    with Session(engine) as session:
        setup_accounts(session)
        done = store.head(session)[0]
        session.commit()
        while done < total:
            specs = payments(done, min(batch, total - done))
            t0 = time.perf_counter()
            store.append_many(session, specs)
            session.commit()
            spent += time.perf_counter() - t0
            done += len(specs)
            if progress and done % (batch * 20) < batch:
                print(f"  {done:>9,} entries, {done / spent:,.0f}/s", file=sys.stderr, flush=True)
    return spent


@contextmanager
def plain_chain() -> Iterator[None]:
    """Switch the tree steps of an append off (the chain alone), restoring them after."""
    saved = merkle.frontier_append, merkle.leaf_hash
    merkle.frontier_append = lambda frontier, size, leaf: (frontier, [])  # type: ignore[assignment]
    merkle.leaf_hash = lambda data: b""  # type: ignore[assignment]
    try:
        yield
    finally:
        merkle.frontier_append, merkle.leaf_hash = saved


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Return the wall times of ``runs`` calls, in milliseconds."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> str:
    """Return median and p95 of a list of milliseconds."""
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.3f} ms, p95 {p95:.3f} ms"


def overhead(pg: bool, size: int, batch: int) -> tuple[float, float]:
    """Return append seconds with and without the tree on fresh databases of ``size``."""
    times: dict[str, list[float]] = {"tree": [], "plain": []}
    for rnd in range(2):  # alternate to even out cache and disk effects
        for mode in ("plain", "tree") if rnd == 0 else ("tree", "plain"):
            with fresh_db(pg, f"{mode}{rnd}") as engine:
                if mode == "plain":
                    with plain_chain():
                        times[mode].append(fill(engine, size, batch))
                else:
                    times[mode].append(fill(engine, size, batch))
    return min(times["tree"]), min(times["plain"])


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--overhead-entries", type=int, default=200_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--pg", action="store_true", help="use PostgreSQL at 127.0.0.1:5432")
    args = parser.parse_args()
    engine_name = "PostgreSQL" if args.pg else "SQLite (file, WAL, synchronous=FULL)"
    print(f"engine: {engine_name}")

    tree_s, plain_s = overhead(args.pg, args.overhead_entries, args.batch)
    n = args.overhead_entries
    print(f"append {n:,} entries in batches of {args.batch:,}:")
    print(f"  plain chain      {plain_s:7.2f} s  {n / plain_s:10,.0f} entries/s")
    print(f"  chain + tree     {tree_s:7.2f} s  {n / tree_s:10,.0f} entries/s")
    print(f"  tree overhead    {100 * (tree_s / plain_s - 1):+.1f} %  (aim <= 10 %)")

    with fresh_db(args.pg, "main") as engine:
        t0 = time.perf_counter()
        spent = fill(engine, args.entries, args.batch, progress=True)
        wall = time.perf_counter() - t0
        rate = args.entries / spent
        print(
            f"build {args.entries:,} entries: {spent:.1f} s appending ({rate:,.0f}/s),"
            f" {wall:.1f} s wall"
        )
        with Session(engine) as session:
            size = store.head(session)[0]
            rng = random.Random(7)
            seqs = [rng.randint(1, size) for _ in range(args.proofs)]
            it = iter(seqs)
            lookup = timed(lambda: store.get_entry(session, next(it)), len(seqs))
            it = iter(seqs)
            proof = timed(lambda: proofs.inclusion(session, next(it), size), len(seqs))
            p = proofs.inclusion(session, seqs[0], size)
            assert merkle.verify_inclusion(
                merkle.leaf_hash(bytes.fromhex(p.entry_hash)), seqs[0] - 1, size, p.proof, p.root
            )
            print(f"at {size:,} entries:")
            print(f"  entry lookup (baseline)   {summary(lookup)}")
            print(f"  inclusion proof           {summary(proof)}  (aim <= 2 ms)")
            ratio = statistics.median(proof) / statistics.median(lookup)
            print(f"  proof / lookup            {ratio:.1f} x")
            signed = proofs.make_checkpoint(session, SIGNER, ORIGIN)
            session.commit()
            it = iter(seqs)
            served = timed(lambda: proofs.checked_inclusion(session, next(it), signed), len(seqs))
            print(f"  self-checked proof        {summary(served)}  (aim <= 3 ms; what is served)")
            session.commit()
            cps = []
            for i in range(5):
                store.append_many(session, payments(size + i, 1))
                session.commit()
                t0 = time.perf_counter()
                proofs.make_checkpoint(session, SIGNER, ORIGIN)
                session.commit()
                cps.append((time.perf_counter() - t0) * 1000)
            print(f"  checkpoint creation       {summary(cps)}  (aim <= 1 s)")
            cons = timed(lambda: proofs.consistency(session, size // 3, size), 200)
            print(f"  consistency proof         {summary(cons)}")
            t0 = time.perf_counter()
            report = proofs.verify_checkpoints(session, [(ORIGIN, SIGNER[1].verify_key)], ORIGIN)
            assert report.ok, report.problem
            print(
                f"  verify all checkpoints (full tree recompute)  {time.perf_counter() - t0:.1f} s"
            )


if __name__ == "__main__":
    main()
