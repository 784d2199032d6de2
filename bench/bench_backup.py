"""Backup and restore benchmark on SQLite: backup of an N-entry ledger while payments go on.

    python -m bench backup                          # 100 000 entries
    python -m bench backup -- --entries 1000000     # the aim: backup ≤ 60 s, restore+verify ≤ 2 min

Printed in the same run: the payment (append + commit) rate with no backup running beside
the rate during the backup, the backup time, and restore and verify (every hash, link, sum,
balance, the stored checkpoint, and the kept checkpoint's root recomputed) times.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import nacl.signing
from sqlalchemy.orm import Session

from bench.bench_ledger import _grow, _setup, _spec
from bench.common import fresh_database, row
from kindpakket import backup, recovery
from kindpakket.db import make_engine
from ledger import checkpoint as ckpt
from ledger import proofs, store

ORIGIN = "bench.example/ledger"


def _pay_while(engine, stop: threading.Event, counter: list[int]) -> None:  # type: ignore[no-untyped-def]
    i = 10**8
    while not stop.is_set():
        spec = _spec(i)
        with Session(engine) as s:
            store.append(s, spec.kind, spec.postings, meta=spec.meta)
            s.commit()
        counter[0] += 1
        i += 1


def _paying(engine, work, seconds: float | None = None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Run ``work`` (or sleep ``seconds``) while payments go on; return (elapsed, pay rate)."""
    stop, counter = threading.Event(), [0]
    payer = threading.Thread(target=_pay_while, args=(engine, stop, counter))
    payer.start()
    started = time.perf_counter()
    if work is None:
        time.sleep(seconds or 0)
    else:
        work()
    elapsed = time.perf_counter() - started
    stop.set()
    payer.join()
    return elapsed, counter[0] / elapsed


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    signer = nacl.signing.SigningKey.generate()
    vkey = ckpt.vkey(ORIGIN, signer.verify_key)
    with fresh_database("sqlite") as engine, tempfile.TemporaryDirectory() as tmp:
        with Session(engine) as s:
            _setup(s)
        started = time.perf_counter()
        _grow(engine, args.entries)
        with Session(engine) as s:
            kept = proofs.make_checkpoint(s, (ORIGIN, signer), ORIGIN).note
            s.commit()
        print(f"  ledger of {args.entries} entries built in {time.perf_counter() - started:.1f} s")

        quiet, base_rate = _paying(engine, None, seconds=3.0)
        target = Path(tmp) / "backup"
        took, during_rate = _paying(
            engine, lambda: backup.backup(engine, target, Path(tmp) / "nokeys")
        )
        size_mb = (target / backup.SQLITE_FILE).stat().st_size / 1e6
        row("payments/s, no backup running", f"{base_rate:,.0f}", f"over {quiet:.1f} s")
        row("payments/s during the backup", f"{during_rate:,.0f}",
            f"{during_rate / base_rate:.0%} of the rate without")  # fmt: skip
        row(f"backup of {args.entries:,} entries ({size_mb:,.0f} MB)", f"{took:.1f} s",
            "aim at 1 M: ≤ 60 s")  # fmt: skip

        restored = make_engine(f"sqlite:///{Path(tmp) / 'restored.db'}")
        restored.dispose()
        (Path(tmp) / "restored.db").touch()
        t0 = time.perf_counter()
        backup.restore(restored, target)
        t_restore = time.perf_counter() - t0
        t0 = time.perf_counter()
        with Session(restored) as s:
            finding = recovery.check(s, [vkey], ORIGIN, [kept])
        t_verify = time.perf_counter() - t0
        restored.dispose()
        assert finding.ok, finding.describe()
        row("restore (page copy)", f"{t_restore:.1f} s")
        total = t_restore + t_verify
        row(f"verify, and prove the kept checkpoint ({finding.entries:,} entries)",
            f"{t_verify:.1f} s", f"restore+verify {total:.1f} s; aim at 1 M: ≤ 120 s")  # fmt: skip


if __name__ == "__main__":
    main()
