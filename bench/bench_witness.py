"""Benchmark: a witness keeping up with the ledger's checkpoints over loopback HTTP.

Run: ``.venv/bin/python -m bench witness [-- --checkpoints 100 --pg]``. A ledger app is
served on 127.0.0.1 (werkzeug, threaded, keep-alive); between witness rounds the ledger
appends a few entries and signs a checkpoint (not timed). Each timed round is what
``kindpakket witness run`` does: fetch the checkpoint and the consistency proof, verify the
log's signature and the proof, co-sign, write the state file (fsync) and POST the
cosignature, which the ledger verifies and stores. Printed beside it: bare Ed25519
verifications per second in the same run, and the aim of 100 checkpoints a minute.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.signing
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from bench.common import fresh_database, pg_available, row
from kindpakket import create_app
from kindpakket.db import db
from kindpakket.ledger_api import checkpoint_signer, checkpoint_vkeys
from kindpakket.witness_state import (
    LedgerClient,
    new_state,
    save_state,
    witness_round,
)
from ledger import checkpoint as ckpt
from ledger import merkle, proofs, store
from ledger import witness as wit
from ledger.store import NewEntry

AIM_PER_SECOND = 100 / 60


def bare_verify_rate(seconds: float) -> float:
    """Return Ed25519 verifications per second of a checkpoint-sized message."""
    key = nacl.signing.SigningKey.generate()
    message = b"cosignature/v1\ntime 1700000000\nkindpakket.example/ledger\n123\n" + b"A" * 44
    signed = key.sign(message)
    verify = key.verify_key.verify
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        verify(signed)
        count += 1
    return count / (time.perf_counter() - start)


def pure_rate(checkpoints: int, entries_between: int) -> float:
    """Return checkpoints checked and co-signed per second with no HTTP, state file or DB."""
    log_key, w_key = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
    origin = "bench.kindpakket/ledger"
    tree = merkle.MemoryTree()
    steps = []
    for _ in range(checkpoints):
        for _ in range(entries_between):
            tree.append_data(tree.size.to_bytes(8, "big"))
        size = tree.size
        note = ckpt.sign_checkpoint(ckpt.Checkpoint(origin, size, tree.root(size)), origin, log_key)
        steps.append((size, note))
    view = wit.WitnessView(origin, (ckpt.vkey(origin, log_key.verify_key),))
    start = time.perf_counter()
    for size, note in steps:
        proof = tree.consistency_proof(view.size, size) if view.size else []
        view, _ = wit.witness_checkpoint(view, note, proof, "bench/w", w_key, 1_700_000_000)
    return checkpoints / (time.perf_counter() - start)


def run(kind: str, checkpoints: int, entries_between: int) -> None:
    """Serve a ledger on ``kind`` and time a witness following ``checkpoints`` checkpoints."""
    with fresh_database(kind, "kp_bench_witness") as engine, tempfile.TemporaryDirectory() as tmp:
        url = engine.url.render_as_string(hide_password=False)
        config = {"DATABASE_URL": url, "INSTANCE_DIR": tmp, "TESTING": True}
        state_path = Path(tmp) / "witness.json"
        first = create_app(config)
        with first.app_context():
            checkpoint_signer()
            log_vkeys = checkpoint_vkeys()
            origin = first.config["LEDGER_ORIGIN"]
        first.extensions["kindpakket_db"][0].dispose()
        state = new_state("bench.witness/w1", origin, log_vkeys)
        save_state(state_path, state)
        app = create_app({**config, "WITNESS_VKEYS": state.vkey})
        with Session(app.extensions["kindpakket_db"][0]) as session:
            for name in ("bank:1", "fund:1"):
                store.open_account(session, name)
            session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        client = LedgerClient(f"http://127.0.0.1:{server.server_port}")
        times: list[float] = []
        try:
            for _ in range(checkpoints):
                with app.app_context(), db.transaction() as session:
                    store.append_many(
                        session,
                        [NewEntry("fund.deposit", [("bank:1", -1), ("fund:1", 1)])]
                        * entries_between,
                    )
                    proofs.make_checkpoint(session, checkpoint_signer(), origin)
                start = time.perf_counter()
                result = witness_round(state_path, client)
                times.append(time.perf_counter() - start)
                assert result.outcome == "cosigned", result
        finally:
            client.close()
            server.shutdown()
            thread.join()
            server.server_close()
            app.extensions["kindpakket_db"][0].dispose()
        per_second = len(times) / sum(times)
        median_ms = statistics.median(times) * 1000
        row(f"{kind}: checkpoints verified + cosigned", f"{per_second:,.1f}/s", "over loopback")
        row(f"{kind}: round median / max", f"{median_ms:.1f} / {max(times) * 1000:.1f} ms")
        row(
            f"{kind}: headroom over 100 checkpoints/min",
            f"{per_second / AIM_PER_SECOND:,.0f}×",
        )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoints", type=int, default=100)
    parser.add_argument("--entries-between", type=int, default=10)
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    bare = bare_verify_rate(1.0)
    row("bare Ed25519 verify", f"{bare:,.0f}/s", "baseline, same run")
    pure = pure_rate(args.checkpoints, args.entries_between)
    row("verify + consistency + cosign, in memory", f"{pure:,.0f}/s", f"{pure / bare:.2f}× bare")
    kinds = ["sqlite"] + (["postgresql"] if args.pg and pg_available() else [])
    for kind in kinds:
        run(kind, args.checkpoints, args.entries_between)
    print(f"  aim: {AIM_PER_SECOND:.2f} checkpoints/s (100 a minute)")


if __name__ == "__main__":
    main()
