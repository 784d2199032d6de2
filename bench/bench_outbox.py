"""Benchmark: outbox throughput to a local SMTP server, and scheduling the 4-week reminder.

Run: ``.venv/bin/python -m bench outbox [-- --mails 2000 --vouchers 100000 --no-pg]``.

1. ``--mails`` queued notices sent by one worker (claim, render in the recipient's language,
   send over one SMTP connection, mark sent) to an aiosmtpd server in this process, beside a
   baseline: raw ``smtplib`` sends of the same, pre-rendered messages over one connection.
   Target: at least 200 mails/s per worker.
2. The 4-week expiry reminder for ``--vouchers`` vouchers (households with an e-mail address
   and money left): balances read, recipients and opt-outs looked up, rows queued with their
   dedupe keys. Target: at most 30 s for 100 000.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bench.bench_import import _fund, make_csv
from bench.common import arguments, engines, free_port, fresh_database, row
from kindpakket import outbox, worker
from kindpakket.outbox import OutboxMessage, Recipient
from kindpakket.time import today as amsterdam_today


@contextmanager
def sink_server() -> Iterator[str]:
    """Run aiosmtpd (accept and discard) in its own process; yield its ``smtp://`` URL."""
    port = free_port()
    args = ["-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
    server = subprocess.Popen([sys.executable, *args], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"smtp://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def _app(engine: Engine, smtp_url: str, tmp: str):  # type: ignore[no-untyped-def]
    from kindpakket import create_app

    url = engine.url.render_as_string(hide_password=False)
    return create_app(
        {"DATABASE_URL": url, "INSTANCE_DIR": tmp, "SECRET_KEY": "bench", "SMTP_URL": smtp_url}
    )


def throughput(engine: Engine, mails: int) -> None:
    """Send ``mails`` notices with the worker, and the same messages with raw smtplib."""
    with Session(engine) as s:
        rows = [
            (
                "shop.payout_confirmed",
                Recipient(f"shop:{i}", f"winkel{i}@bench.example", "nl" if i % 2 else "en"),
                {
                    "shop": f"Winkel {i}",
                    "fund": "Kindpakket",
                    "amount_cents": 1234 + i,
                    "batch": "B",
                },
                None,
                None,
            )
            for i in range(mails)
        ]
        outbox.enqueue_many(s, rows)
        s.commit()
    with sink_server() as url, tempfile.TemporaryDirectory() as tmp:
        app = _app(engine, url, tmp)
        with app.app_context(), Session(engine) as s:
            prepared = [worker.message_for(r) for r in s.execute(select(OutboxMessage)).scalars()]
        started = time.perf_counter()
        smtp = smtplib.SMTP("127.0.0.1", int(url.rsplit(":", 1)[1]))
        for msg in prepared:
            smtp.send_message(msg)
        smtp.quit()
        raw = mails / (time.perf_counter() - started)
        started = time.perf_counter()
        stats = worker.run(app, once=True, batch=200)
        ours = stats.sent / (time.perf_counter() - started)
        app.extensions["kindpakket_db"][0].dispose()
    assert stats.sent == mails
    row("raw smtplib, pre-rendered (baseline)", f"{raw:,.0f} mails/s")
    verdict = "ok" if ours >= 200 else "BELOW TARGET"
    row("worker: claim+render+send+mark", f"{ours:,.0f} mails/s", f"{ours / raw:.2f}x; {verdict}")


def scheduling(engine: Engine, vouchers: int) -> None:
    """Time the 4-week reminder of a fund with ``vouchers`` vouchers, all with e-mail."""
    from admin.funds import importer
    from admin.notifications import reminders
    from wallet.models import Fund

    data = make_csv(vouchers).decode()
    lines = data.splitlines()
    head = lines[0]
    body = [
        ";".join([*(parts := line.split(";"))[:5], f"{parts[0].lower()}@bench.example", *parts[6:]])
        for line in lines[1:]
    ]
    fund_id = _fund(engine, vouchers)
    with Session(engine) as s:
        fund = s.get(Fund, fund_id)
        assert fund is not None
        summary = importer.import_rows(
            s, fund, ("\n".join([head, *body]) + "\n").encode(), actor="bench", filename="b.csv"
        )
        assert not summary.errors, summary.errors[:3]  # else nothing would be scheduled
        s.execute(update(OutboxMessage).values(state="sent"))  # the "issued" notices: done
        end = amsterdam_today() + timedelta(28)
        s.execute(update(Fund).where(Fund.id == fund_id).values(period_end=end))
        s.commit()
    started = time.perf_counter()
    with Session(engine) as s:
        queued = reminders.expiry_reminders(s, amsterdam_today())
        s.commit()
    seconds = time.perf_counter() - started
    verdict = "ok" if seconds <= 30 * vouchers / 100_000 else "BELOW TARGET"
    row(
        f"4-week reminder, {vouchers:,} vouchers",
        f"{seconds:.1f} s",
        f"{queued:,} households queued; {verdict}",
    )


def main() -> None:
    """Measure and print."""
    args = arguments(__doc__, mails=2000, vouchers=100_000)
    for kind in engines(args):
        print(f"\n== {kind}")
        with fresh_database(kind, "kp_bench_outbox") as engine:
            throughput(engine, args.mails)
        with fresh_database(kind, "kp_bench_outbox") as engine:
            scheduling(engine, args.vouchers)


if __name__ == "__main__":
    main()
