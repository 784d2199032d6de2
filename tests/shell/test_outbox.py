"""The outbox and the worker, against a real SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kindpakket import outbox, worker
from kindpakket.notices import EVENTS, render
from kindpakket.outbox import OutboxMessage, Recipient
from tests import factories as fx
from tests.smtp_server import smtp_server
from wallet import services as wallet_services
from wallet.models import Household, Voucher

ROOT = Path(__file__).resolve().parents[2]


def _queue(engine: Engine, n: int, event: str = "shop.approved") -> list[int]:
    with Session(engine) as s:
        for i in range(n):
            to = Recipient(f"shop:{i}", f"winkel{i}@shop.example", "nl" if i % 2 else "en")
            outbox.enqueue(s, event, to, {"shop": f"Winkel {i}", "fund": "Kindpakket"})
        s.commit()
        return list(s.execute(select(OutboxMessage.id).order_by(OutboxMessage.id)).scalars())


def _rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_a_notice_is_sent_once_as_text_and_html_with_a_stable_message_id(
    app: Flask, engine: Engine
) -> None:
    _queue(engine, 2)
    with smtp_server() as (inbox, url):
        app.config["SMTP_URL"] = url
        stats = worker.run(app, once=True)
        assert stats.sent == 2
        worker.run(app, once=True)  # nothing is due any more: nothing is sent again
    assert len(inbox.messages) == 2
    english, dutch = inbox.messages
    assert english["Subject"] == "Winkel 0 is approved for Kindpakket"
    assert dutch["Subject"] == "Winkel 1 is goedgekeurd voor Kindpakket"
    assert dutch["Content-Language"] == "nl"
    assert english.is_multipart()
    kinds = [part.get_content_type() for part in english.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    assert english["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/notify/preferences/")
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rows = _rows(engine)
    with app.app_context():
        assert [r.message_id("localhost") for r in rows] == inbox.ids()
    assert all(r.state == "sent" and r.params is None and r.sent_at for r in rows)


def test_a_rolled_back_change_queues_nothing_and_a_committed_one_queues_its_notice(
    app: Flask, engine: Engine
) -> None:
    with Session(engine) as s:
        f = fx.fund(s)
        household, vouchers = fx.family(s, f)
        household.email = "ouder@example.org"
        s.commit()
        hid, vid = household.id, vouchers[0].id
    with app.app_context(), Session(engine) as s:
        h, v = s.get(Household, hid), s.get(Voucher, vid)
        assert h is not None and v is not None
        wallet_services.block_voucher(s, h, v, actor="test")
        s.rollback()
        assert _rows(engine) == []
        wallet_services.block_voucher(s, h, v, actor="test")
        s.commit()
    [row] = _rows(engine)
    assert (row.event, row.address, row.params["child"]) == (
        "family.voucher_blocked",
        "ouder@example.org",
        "Anouk",
    )


def test_a_refusing_server_is_retried_later_and_a_permanent_refusal_tells_the_staff(
    app: Flask, engine: Engine
) -> None:
    with Session(engine) as s:
        fx.admin_user(s, fx.municipality(s))
        s.commit()
    _queue(engine, 1)
    with smtp_server() as (inbox, url):
        app.config["SMTP_URL"] = url
        inbox.answer = "451 4.3.0 try again later"
        worker.run(app, once=True)
        [row] = _rows(engine)
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=30)
        assert "451" in (row.last_error or "")
        with Session(engine) as s:  # the backoff has passed
            s.get(OutboxMessage, row.id).next_attempt_at = datetime.now(UTC)  # type: ignore[union-attr]
            s.commit()
        inbox.answer = "550 5.1.1 no such mailbox"
        worker.run(app, once=True)  # fails for good, and the staff notice is sent
        failed, notice = _rows(engine)
        assert (failed.state, failed.params) == ("failed", None)
        assert (notice.event, notice.address) == (
            "staff.delivery_failed",
            "beheer@voorbeeld.example",
        )
        assert notice.state == "failed"  # the same server refuses it too...
    assert len(_rows(engine)) == 2  # ...and a failed failure notice causes no further notice


def test_two_workers_never_send_one_row_twice(app: Flask, engine: Engine) -> None:
    _queue(engine, 60)
    with smtp_server() as (inbox, url):
        app.config["SMTP_URL"] = url
        results: list[Any] = []
        runs = [
            threading.Thread(target=lambda: results.append(worker.run(app, once=True, batch=5)))
            for _ in range(2)
        ]
        for t in runs:
            t.start()
        for t in runs:
            t.join()
    ids = inbox.ids()
    assert len(ids) == 60 and len(set(ids)) == 60
    assert sum(r.sent for r in results) == 60
    assert {r.state for r in _rows(engine)} == {"sent"}


def _worker(database_url: str, smtp_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "KINDPAKKET_DATABASE_URL": database_url,
        "KINDPAKKET_SMTP_URL": smtp_url,
        "KINDPAKKET_INSTANCE_DIR": str(tmp_path / "instance"),
        "KINDPAKKET_SECRET_KEY": "test-secret",
        "PYTHONPATH": str(ROOT),
    }
    code = "from kindpakket.cli import main; main()"
    args = ["worker", "--lease", "1", "--poll", "0.1", "--batch", "3"]
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=ROOT)


def test_a_worker_killed_mid_send_loses_nothing_and_a_resend_keeps_its_message_id(
    app: Flask, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _queue(engine, 6)
    with smtp_server() as (inbox, url):
        inbox.hold = threading.Event()  # the server takes the first message and then stalls
        first = _worker(database_url, url, tmp_path)
        try:
            assert inbox.received.wait(60), "the worker never sent"
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            first.kill()
        assert len(inbox.ids()) == 1  # accepted by the server, never acknowledged to the worker
        inbox.hold.set()
        second = _worker(database_url, url, tmp_path)
        try:
            for _ in range(600):
                if all(r.state == "sent" for r in _rows(engine)):
                    break
                second.wait(0.1) if second.poll() is not None else threading.Event().wait(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    rows = _rows(engine)
    assert {r.state for r in rows} == {"sent"}
    with app.app_context():
        expected = {r.message_id("localhost") for r in rows}
    ids = inbox.ids()
    assert set(ids) == expected  # every row arrived...
    resent = [i for i in set(ids) if ids.count(i) > 1]
    assert len(ids) - len(expected) == len(resent) <= 1  # ...at most one again, same Message-ID


def test_every_notice_renders_in_dutch_and_english_without_missing_strings(app: Flask) -> None:
    params = {
        "municipality": "Gemeente Voorbeeld",
        "fund": "Kindpakket 2026",
        "amount_cents": 12_345,
        "balance_cents": 100,
        "threshold_cents": 100_000,
        "end_day": "2026-12-31",
        "child": "Anouk",
        "shop": "De Spaak",
        "city": "Zuidhorn",
        "reason": "Geen kinderwinkel",
        "receipt": "B-000001",
        "batch": "KP-1",
        "shops": 3,
        "event": "family.expiry_4w",
        "recipient": "household:1",
        "attempts": 8,
        "job": "expiry_reminders",
        "error": "OperationalError",
        "day": "30-11-2026",
        "sent": 10,
        "failed": 1,
        "applications": 2,
        "url": "http://127.0.0.1:5000/wallet/",
    }
    with app.app_context():
        for name in EVENTS:
            nl = render(name, params, "nl", "http://x/p")
            en = render(name, params, "en", "http://x/p")
            for text in (nl.subject, nl.text, nl.html, en.subject, en.text, en.html):
                assert "%(" not in text, (name, text)
            assert nl.subject != en.subject, f"{name}: subject has no Dutch"
            assert "Kies welke berichten u krijgt" in nl.text
            assert "Choose which messages you get" in en.text
        expiry = render("family.expiry_4w", params, "nl", "http://x/p")
        assert "€ 123,45" in expiry.subject and "31 december 2026" in expiry.subject


def test_the_readiness_check_fails_without_a_heartbeat_only_when_a_worker_is_expected(
    app: Flask, client: Any, engine: Engine
) -> None:
    assert client.get("/readyz").get_json()["checks"]["worker_heartbeat"] == "ok"
    app.config["WORKER_EXPECTED"] = True
    check = client.get("/readyz").get_json()["checks"]["worker_heartbeat"]
    assert "no worker has started" in check
    with smtp_server() as (_inbox, url):
        app.config["SMTP_URL"] = url
        worker.run(app, once=True)
    assert client.get("/readyz").get_json()["checks"]["worker_heartbeat"] == "ok"
    with Session(engine) as s:
        for beat in s.execute(select(outbox.WorkerHeartbeat)).scalars():
            beat.beat_at = datetime.now(UTC) - timedelta(minutes=10)
        s.commit()
    assert (
        "no worker heartbeat for" in client.get("/readyz").get_json()["checks"]["worker_heartbeat"]
    )


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.example:2525", "none", 2525),
        ("smtp+starttls://u%40x:p%3Aw@mail.example", "starttls", 587),
        ("smtps://mail.example", "tls", 465),
    ],
)
def test_smtp_urls_name_the_connection(url: str, security: str, port: int) -> None:
    from kindpakket.mailer import parse_url

    settings = parse_url(url)
    assert (settings.host, settings.security, settings.port) == ("mail.example", security, port)
    if security == "starttls":
        assert (settings.username, settings.password) == ("u@x", "p:w")
    with pytest.raises(ValueError, match="KINDPAKKET_SMTP_URL"):
        parse_url("http://mail.example")
