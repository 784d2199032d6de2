"""Strict ledger verification: from an export (pure) and from the database.

    python -m bench.bench_verify [--size 1000000] [--db-size 200000] [--no-db]

Every entry's bytes are checked strictly and compared with its columns; roots are
recomputed. Printed beside plain SHA-256 over the same entry bytes, measured in the same
run. Rates are per CPU second of this process (time.process_time), so that other load on
a shared machine counts less; the database figure is wall time (it waits on SQLite too).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nacl.signing
from sqlalchemy.orm import Session

from bench.common import fresh_database, row
from ledger import checkpoint as ckpt
from ledger import merkle, proofs, store
from ledger.encoding import GENESIS_HASH, encode_fields, entry_hash
from ledger.export import verify_export, write_export
from ledger.verify import StoredEntry, verify_entries

ORIGIN = "bench.example/ledger"
KEY = nacl.signing.SigningKey(bytes(range(32)))
VOUCHERS = 1_000


def _ts(i: int) -> str:
    """Return a distinct time for entry ``i`` (about ten a second over a few days)."""
    seconds, tenth = divmod(i, 10)
    day, rest = divmod(seconds, 86_400)
    return (
        f"2026-11-{10 + day:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}."
        f"{tenth * 100_000 + i % 997:06d}Z"
    )


def _legs(i: int) -> list[list[str | int]]:
    amount = 1 + i % 500
    if i == 0:
        return [["bank:1", -(10**15)], ["fund:1", 10**15]]
    return [["fund:1", -amount], [f"voucher:{i % VOUCHERS}", amount]]


def entries(n: int) -> Iterator[StoredEntry]:
    """Yield ``n`` honest entries as the store writes them (issuance with metadata)."""
    prev = GENESIS_HASH
    for i in range(n):
        legs = _legs(i)
        kind = "fund.deposit" if i == 0 else "voucher.issue"
        meta = {"fund": 1, "voucher": i % VOUCHERS, "import": i // 5000}
        ts = _ts(i)
        body = encode_fields(i + 1, prev, kind, ts, tuple(map(tuple, legs)), meta, None)  # type: ignore[arg-type]
        digest = entry_hash(body)
        yield StoredEntry(i + 1, prev, digest, body, legs, kind, None, ts)
        prev = digest


def _export(directory: Path, n: int) -> None:
    """Write an export of ``n`` entries with one checkpoint at the end."""
    tree_frontier: list[bytes] = []
    balances: dict[str, int] = {}

    def counted() -> Iterator[StoredEntry]:
        nonlocal tree_frontier
        for size, e in enumerate(entries(n)):
            leaf = merkle.leaf_hash(bytes.fromhex(e.hash))
            tree_frontier, _ = merkle.frontier_append(tree_frontier, size, leaf)
            for account, amount in e.postings:
                balances[str(account)] = balances.get(str(account), 0) + int(amount)
            yield e

    vkey = ckpt.vkey(ORIGIN, KEY.verify_key)
    write_export(directory, counted(), [], {}, [vkey], [])
    root = merkle.root_from_frontier(tree_frontier)
    note = ckpt.sign_checkpoint(ckpt.Checkpoint(ORIGIN, n, root), ORIGIN, KEY)
    accounts = [
        {"name": a, "non_negative": a.startswith("voucher:"), "balance": b}
        for a, b in sorted(balances.items())
    ]
    write_export(directory, entries(n), [(n, note)], {}, [vkey], accounts)


def _sha_seconds(n: int, chunk: int = 50_000) -> float:
    """Return the seconds plain SHA-256 takes over the same ``n`` entry bodies."""
    total = 0.0
    source = entries(n)
    while True:
        bodies = [e.body for _, e in zip(range(chunk), source, strict=False)]
        if not bodies:
            return total
        t0 = time.process_time()
        for b in bodies:
            hashlib.sha256(b).hexdigest()
        total += time.process_time() - t0


def run_export(n: int) -> None:
    """Time verification of an export of ``n`` entries, fast path on and off."""
    print(f"\n== strict verification of an export of {n:,} entries (pure) ==")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export"
        _export(out, n)
        sha = n / _sha_seconds(n)
        for fast, label in ((True, "with quick check"), (False, "strict parse only")):
            t0, c0 = time.perf_counter(), time.process_time()
            report = verify_export(out, origin=ORIGIN, fast=fast)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert report.ok and report.entries == n, report.problem
            rate = n / cpu
            row(
                f"verify export, {label} (per CPU second)",
                f"{rate:,.0f} /s",
                f"wall {seconds:.1f} s; plain SHA-256 {sha:,.0f} /s -> ratio {rate / sha:.3f}",
            )


def run_memory(n: int) -> None:
    """Time ``verify_entries`` on entries already in memory: the checks without file reading."""
    held = list(entries(n))
    bodies = [e.body for e in held]
    c0 = time.process_time()
    for b in bodies:
        hashlib.sha256(b).hexdigest()
    sha = n / (time.process_time() - c0)
    for fast, label in ((True, "with quick check"), (False, "strict parse only")):
        c0 = time.process_time()
        report = verify_entries(held, fast=fast)
        rate = n / (time.process_time() - c0)
        assert report.ok, report.problem
        row(
            f"verify {n:,} entries in memory, {label}",
            f"{rate:,.0f} /s",
            f"plain SHA-256 {sha:,.0f} /s -> ratio {rate / sha:.3f}",
        )


def run_database(n: int) -> None:
    """Time ``store.verify`` plus checkpoint checks on SQLite with ``n`` entries."""
    print(f"\n== strict verification from the database, SQLite, {n:,} entries ==")
    with fresh_database("sqlite", "kp_bench_verify") as engine:
        with Session(engine) as s:
            store.open_account(s, "bank:1")
            store.open_account(s, "fund:1")
            store.open_accounts(s, [f"voucher:{i}" for i in range(VOUCHERS)], non_negative=True)
            s.commit()
        have = 0
        while have < n:
            k = min(20_000, n - have)
            with Session(engine) as s:
                store.append_many(
                    s,
                    [
                        store.NewEntry(
                            "fund.deposit" if i == 0 else "voucher.issue",
                            [tuple(leg) for leg in _legs(i)],  # type: ignore[misc]
                            {"fund": 1, "voucher": i % VOUCHERS, "import": i // 5000},
                        )
                        for i in range(have, have + k)
                    ],
                )
                s.commit()
            have += k
        with Session(engine) as s:
            proofs.make_checkpoint(s, (ORIGIN, KEY), ORIGIN)
            s.commit()
        with Session(engine) as s:
            t0, c0 = time.perf_counter(), time.process_time()
            sizes = {c.size for c in proofs.list_checkpoints(s)}
            report = store.verify(s, roots_at=sizes)
            cps = proofs.verify_checkpoints(s, [(ORIGIN, KEY.verify_key)], ORIGIN, chain=report)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert report.ok and cps.ok, (report.problem, cps.problem)
        row(
            "verify database, all checks (wall)",
            f"{n / seconds:,.0f} /s",
            f"{seconds:.1f} s wall, {cpu:.1f} s CPU for {n:,}; "
            f"1 000 000 at this rate: {1e6 * seconds / n:.0f} s",
        )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=200_000, help="entries in the export")
    parser.add_argument("--db-size", type=int, default=100_000, help="entries in the database")
    parser.add_argument("--no-db", action="store_true")
    parser.add_argument("--no-pg", action="store_true", help="ignored (SQLite only)")
    args = parser.parse_args()
    run_export(args.size)
    run_memory(min(args.size, 200_000))
    if not args.no_db:
        run_database(args.db_size)


if __name__ == "__main__":
    main()
