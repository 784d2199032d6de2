"""``kindpakket worker``: send the outbox, run the daily jobs, and say it is alive.

Several workers may run (on one host or many). Each claims a batch of due rows in a short
transaction: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers take different
rows without waiting; on SQLite by a conditional UPDATE inside SQLite's single write
transaction. A claim lasts ``lease`` seconds: a worker killed mid-send leaves its rows
``sending``, and after the lease another worker sends them again with the same Message-ID.
A row is marked sent only by the claim that sent it.

Failures are retried with exponential backoff (1, 2, 4 ... minutes, at most an hour);
after ``MAX_ATTEMPTS``, or at once for a permanent (5xx) refusal, the row is ``failed``
and the municipality's staff get a notice (never about a failed failure notice).

Daily jobs (reminders, digests, purge) are registered with :func:`register_job`; a run is
claimed per (job, day) in ``job_runs`` and each message carries a dedupe key, so two
workers never send one twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kindpakket import outbox
from kindpakket import time as clock
from kindpakket.db import db
from kindpakket.mailer import Mailer, MailError, build, parse_url
from kindpakket.notices import render
from kindpakket.outbox import FAILED, PENDING, SENDING, SENT, OutboxMessage, WorkerHeartbeat

log = logging.getLogger("kindpakket.worker")

Job = Callable[[Session, date], int]  # queues messages for a day; returns how many
_jobs: dict[str, Job] = {}


def register_job(name: str, job: Job) -> None:
    """Run ``job(session, today)`` once a day from the worker (claimed per day)."""
    _jobs[name] = job


def jobs() -> dict[str, Job]:
    """Return the registered daily jobs."""
    return dict(_jobs)


@dataclass
class Stats:
    """What one worker did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    jobs: dict[str, int] = field(default_factory=dict)


def worker_name() -> str:
    """Return this process's name in the heartbeat table."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == SENDING, OutboxMessage.claimed_until < now),
    )


def claim(session: Session, limit: int, lease: int, now: datetime | None = None) -> list[Any]:
    """Claim up to ``limit`` due rows for ``lease`` seconds; return them (detached values)."""
    now = now or datetime.now(UTC)
    query = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.execute(query).scalars())
    if not ids:
        return []
    token = uuid.uuid4().hex
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _due(now))  # the condition again: SQLite's claim
        .values(
            state=SENDING,
            claim=token,
            claimed_until=now + timedelta(seconds=lease),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.claim == token)).scalars()
    found = list(rows)
    session.expunge_all()
    return found


def preferences_url(row: OutboxMessage) -> str:
    """Return the signed, login-free preferences link of the row's recipient."""
    from kindpakket.notify_views import preferences_link

    return preferences_link(row.recipient, row.municipality_id)


def message_for(row: OutboxMessage) -> Any:
    """Render and build the e-mail of ``row`` (app context needed)."""
    cfg = current_app.config
    link = preferences_url(row)
    rendered = render(row.event, row.params or {}, row.language, link)
    return build(
        sender=cfg["MAIL_FROM"],
        sender_name=cfg["MUNICIPALITY_NAME"],
        to=row.address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=row.message_id(cfg["MAIL_FROM"].rpartition("@")[2] or "kindpakket.invalid"),
        language=row.language,
        unsubscribe_url=link,
    )


def send_batch(mailer: Mailer, stats: Stats, *, limit: int = 100, lease: int = 300) -> int:
    """Claim, send and mark one batch; return how many rows were claimed."""
    with db.transaction() as session:
        rows = claim(session, limit, lease)
    if not rows:
        return 0
    done: list[tuple[OutboxMessage, MailError | None]] = []
    for row in rows:
        try:
            mailer.send(message_for(row))
        except MailError as err:
            done.append((row, err))
        except (KeyError, ValueError, TypeError) as err:  # a message that cannot render
            done.append((row, MailError(f"render: {type(err).__name__}: {err}", permanent=True)))
        else:
            done.append((row, None))
    with db.transaction() as session:
        for row, err in done:
            _settle(session, row, err, stats)
    return len(rows)


def _settle(session: Session, row: OutboxMessage, err: MailError | None, stats: Stats) -> None:
    """Mark one claimed row sent, due again later, or failed for good."""
    mine = and_(OutboxMessage.id == row.id, OutboxMessage.claim == row.claim)
    now = datetime.now(UTC)
    if err is None:
        values: dict[str, Any] = {"state": SENT, "sent_at": now, "params": None, "claim": None}
        stats.sent += 1
    elif err.permanent or row.attempts >= outbox.MAX_ATTEMPTS:
        values = {"state": FAILED, "params": None, "claim": None, "last_error": str(err)[:300]}
        stats.failed += 1
        if not row.event.startswith("staff.delivery_failed"):
            outbox.notify_staff(
                session,
                "staff.delivery_failed",
                {"event": row.event, "recipient": row.recipient, "attempts": row.attempts},
                municipalities=[row.municipality_id] if row.municipality_id else None,
                dedupe=f"delivery_failed:{row.id}",
            )
    else:
        values = {
            "state": PENDING,
            "claim": None,
            "last_error": str(err)[:300],
            "next_attempt_at": now + outbox.backoff(row.attempts),
        }
        stats.retried += 1
    session.execute(
        update(OutboxMessage)
        .where(mine)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def heartbeat(name: str, started: datetime, stats: Stats) -> None:
    """Record that this worker is alive (one small upsert)."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        table = WorkerHeartbeat.__table__
        dialect = session.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {"beat_at": now, "sent": stats.sent, "failed": stats.failed}
        session.execute(
            insert(table)
            .values(name=name, started_at=started, **values)
            .on_conflict_do_update(index_elements=["name"], set_=values)
        )


def run_jobs(today: date, stats: Stats) -> None:
    """Run every registered job for ``today`` that no worker has run yet."""
    for name, job in sorted(_jobs.items()):
        period = today.isoformat()
        try:
            with db.transaction() as session:
                if not outbox.claim_job(session, name, period):
                    continue
                queued = job(session, today)
                outbox.record_job(session, name, period, queued)
            stats.jobs[name] = queued
        except Exception as exc:  # one job's failure must not stop the others or the mail
            log.exception("job %s failed", name)
            with db.transaction() as session:
                outbox.notify_staff(
                    session,
                    "staff.job_failed",
                    {"job": name, "error": f"{type(exc).__name__}"},
                    municipalities=None,
                    dedupe=f"job_failed:{name}:{period}",
                )


def purge(session: Session, today: date) -> int:
    """Delete sent and failed rows older than the retention period (and old job runs)."""
    days = current_app.config["OUTBOX_RETENTION_DAYS"]
    cutoff = datetime.now(UTC) - timedelta(days=days)
    gone = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state.in_((SENT, FAILED)), OutboxMessage.created_at < cutoff
        )
    ).rowcount
    session.execute(delete(outbox.JobRun).where(outbox.JobRun.done_at < cutoff))
    return -int(gone or 0)  # negative: rows removed, not queued


register_job("outbox_purge", purge)


def run(
    app: Flask,
    *,
    once: bool = False,
    batch: int = 100,
    lease: int = 300,
    poll: float = 2.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> Stats:
    """Send until stopped (or, with ``once``, until nothing is due); run jobs daily."""
    stats, name, started = Stats(), worker_name(), datetime.now(UTC)
    with app.app_context():
        mailer = Mailer(parse_url(app.config["SMTP_URL"]))
        jobs_hour, last_jobs, last_beat = app.config["JOBS_HOUR"], "", 0.0
        try:
            while not should_stop():
                if time.monotonic() - last_beat >= 10:
                    heartbeat(name, started, stats)
                    last_beat = time.monotonic()
                today = clock.today()
                if today.isoformat() != last_jobs and (once or clock_hour() >= jobs_hour):
                    run_jobs(today, stats)
                    last_jobs = today.isoformat()
                claimed = send_batch(mailer, stats, limit=batch, lease=lease)
                if claimed == 0:
                    if once:
                        break
                    mailer.close()  # idle: do not hold the server's connection
                    time.sleep(poll)
            heartbeat(name, started, stats)
        finally:
            mailer.close()
    return stats


def clock_hour() -> int:
    """Return the hour on Amsterdam's clock."""
    return datetime.now(clock.ZONE).hour


def heartbeat_problem() -> str | None:
    """The ``/readyz`` check: a worker is expected and none has beaten recently."""
    cfg = current_app.config
    if not cfg.get("WORKER_EXPECTED"):
        return None
    stale = cfg["WORKER_STALE_SECONDS"]
    with db.reader() as session:
        newest = session.execute(
            select(WorkerHeartbeat.beat_at).order_by(WorkerHeartbeat.beat_at.desc())
        ).scalar()
    if newest is None:
        return "no worker has started (KINDPAKKET_WORKER_EXPECTED is on)"
    age = (datetime.now(UTC) - newest).total_seconds()
    return None if age <= stale else f"no worker heartbeat for {int(age)} s (limit {stale} s)"
