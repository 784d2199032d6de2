"""Concurrent appends from real threads: no fork, no gap, nothing lost, never below zero."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ledger import store
from ledger.errors import InsufficientBalance
from ledger.models import LedgerEntry

THREADS = 12


def run_threads(target, count: int = THREADS) -> list[object]:  # type: ignore[no-untyped-def]
    """Start ``count`` threads at one barrier and return what each one returned or raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def setup_ledger(engine: Engine, voucher_cents: int) -> None:
    with Session(engine) as s:
        store.open_account(s, "bank:1")
        store.open_account(s, "fund:1")
        store.open_account(s, "voucher:1", non_negative=True)
        for shop in range(THREADS):
            store.open_account(s, f"merchant:{shop}:payable:1")
        store.append(s, "fund.deposit", [("bank:1", -(10**9)), ("fund:1", 10**9)])
        store.append(s, "voucher.issue", [("fund:1", -voucher_cents), ("voucher:1", voucher_cents)])
        s.commit()


def test_parallel_appends_make_one_unbroken_chain(engine: Engine) -> None:
    setup_ledger(engine, 1_000)
    per_thread = 15

    def append_many(i: int) -> int:
        for n in range(per_thread):
            with Session(engine) as s:
                store.append(
                    s,
                    "voucher.topup",
                    [("fund:1", -1), ("voucher:1", 1)],
                    meta={"thread": i, "n": n},
                )
                s.commit()
        return per_thread

    results = run_threads(append_many)
    assert results == [per_thread] * THREADS, results
    with Session(engine) as s:
        seqs = list(s.execute(select(LedgerEntry.seq).order_by(LedgerEntry.seq)).scalars())
        assert seqs == list(range(1, 2 + THREADS * per_thread + 1))  # gap-free
        assert store.balance(s, "voucher:1") == 1_000 + THREADS * per_thread
        report = store.verify(s)
        assert report.ok, report.problem  # every link holds: no fork


def test_racing_spenders_never_take_a_voucher_below_zero(engine: Engine) -> None:
    setup_ledger(engine, 1_000)  # room for exactly 3 payments of 300

    def spend(i: int) -> str:
        with Session(engine) as s:
            try:
                store.append(
                    s, "redemption", [("voucher:1", -300), (f"merchant:{i}:payable:1", 300)]
                )
                s.commit()
                return "paid"
            except InsufficientBalance:
                s.rollback()
                return "refused"

    outcome = Counter(run_threads(spend))  # type: ignore[arg-type]
    assert outcome == {"paid": 3, "refused": THREADS - 3}
    with Session(engine) as s:
        assert store.balance(s, "voucher:1") == 100
        assert store.verify(s).ok


def test_same_idempotency_key_from_many_threads_appends_once(engine: Engine) -> None:
    setup_ledger(engine, 1_000)

    def pay(_i: int) -> int:
        with Session(engine) as s:
            entry = store.append(
                s,
                "redemption",
                [("voucher:1", -250), ("merchant:0:payable:1", 250)],
                idempotency_key="scan-42",
            )
            s.commit()
            return entry.seq

    seqs = run_threads(pay)
    assert len(set(seqs)) == 1 and isinstance(seqs[0], int), seqs
    with Session(engine) as s:
        assert store.balance(s, "voucher:1") == 750
        assert store.verify(s).ok
