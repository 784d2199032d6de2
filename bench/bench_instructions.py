"""Instructions per payment, counted by valgrind, beside the plain payment app.

    python -m bench.bench_instructions [--count 50] [--no-pg]

The HTTP benchmark (``bench_payments``) measures what a till sees, but on a shared machine
its figures move by a tenth from run to run. This one counts the CPU instructions a
payment costs, which do not move: for each engine, a child process builds a fresh database
with ``bench_payments``' fund, vouchers and shop, warms up through Flask's test client, and
only then has valgrind's callgrind count (``callgrind_control -i on``) while it answers
``--count`` scanned payments, then as many ``/healthz`` requests (the request shell alone).
The plain app (``bench/plain_app.py``: same token check, same durability, no ledger) is
counted the same way in the same run. Printed: millions of instructions per request and the
ratio plain / Kindpakket. Needs valgrind (Debian: ``valgrind``); instructions in Python
code and in SQLite count, a PostgreSQL server's own do not.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import fresh_database, pg_available, row

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 30
_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def _wait(path: Path, child: subprocess.Popen[bytes] | None = None) -> None:
    while not path.exists():
        if child is not None and child.poll() is not None:
            raise RuntimeError(f"the measured process ended early ({child.returncode})")
        time.sleep(0.05)


def child(kind: str, target: str, what: str, count: int, signals: Path) -> None:
    """Set up, warm up, then answer ``count`` requests between the parent's two signals."""
    from bench.bench_payments import AMOUNT, _seed, _tokens, cashier_client, plain_client

    logging.disable(logging.CRITICAL)
    database = fresh_database(kind, name=f"kp_bench_instr_{os.getpid()}")
    with database as engine, tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        url = engine.url.render_as_string(hide_password=False)
        seeded = _seed(engine, instance / "keys")
        texts = _tokens(instance / "keys", seeded["vouchers"], count + WARM_UP)  # type: ignore[arg-type]
        if target == "plain":
            client = plain_client(engine, instance, seeded["vouchers"])  # type: ignore[arg-type]
            path = "/pay"
        else:
            _app, client = cashier_client(url, instance, str(seeded["cashier"]))
            path = "/api/v1/merchant/redemptions"

        def request(i: int) -> None:
            if what == "healthz":
                answer = client.get("/healthz")
            else:
                body = {
                    "token": texts[i],
                    "amount_cents": AMOUNT,
                    "idempotency_key": uuid.uuid4().hex,
                }
                answer = client.post(path, json=body)
            if answer.status_code not in (200, 201):
                raise RuntimeError(answer.get_data(as_text=True))

        for i in range(WARM_UP):
            request(count + i)  # the last tokens: the counted ones stay unused
        (signals / "ready").touch()
        _wait(signals / "go")
        for i in range(count):
            request(i)
        (signals / "done").touch()
        _wait(signals / "end")


def count_instructions(kind: str, target: str, what: str, count: int) -> float:
    """Return the instructions per request of ``target`` answering ``what`` on ``kind``."""
    with tempfile.TemporaryDirectory() as tmp:
        signals = Path(tmp)
        out = signals / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        command += [f"--callgrind-out-file={out}", sys.executable, "-m", "bench.bench_instructions"]
        command += ["--child", kind, target, what, str(count), str(signals)]
        log = (signals / "log").open("wb")
        proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(signals / "ready", proc)
            subprocess.run(
                ["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True
            )
            (signals / "go").touch()
            _wait(signals / "done", proc)
            subprocess.run(
                ["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True
            )
            (signals / "end").touch()
            if proc.wait(timeout=600) != 0:
                raise RuntimeError((signals / "log").read_text(errors="replace")[-2000:])
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
        found = _TOTALS.search(out.read_text(errors="replace"))
        if found is None:
            raise RuntimeError("callgrind wrote no totals")
        return int(found.group(1)) / count


def main() -> None:
    """Count both apps on each engine and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50, help="requests counted per figure")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, target, what, count, signals = args.child
        child(kind, target, what, int(count), Path(signals))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench_instructions needs valgrind (Debian: apt-get install valgrind): not run")
        return
    kinds = ["sqlite"] + ([] if args.no_pg or not pg_available() else ["postgresql"])
    for kind in kinds:
        print(f"\n{kind}: millions of instructions per request (callgrind, {args.count} counted)")
        for what in ("payment", "healthz"):
            plain = count_instructions(kind, "plain", what, args.count)
            ours = count_instructions(kind, "kindpakket", what, args.count)
            row(f"{what}: plain app / Kindpakket", f"{plain / 1e6:.2f} / {ours / 1e6:.2f} M")
            row(f"{what}: plain / Kindpakket", f"{100 * plain / ours:8.1f} %")


if __name__ == "__main__":
    main()
