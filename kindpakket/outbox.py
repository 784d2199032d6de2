"""The transactional outbox: notifications written in the transaction of the change behind them.

A service that changes something a person should hear about calls :func:`enqueue` (or one
of the helpers below) in its own unit of work, so the notice commits or rolls back with the
change: none is lost and none is sent for a change that did not happen. ``kindpakket
worker`` (:mod:`kindpakket.worker`) claims rows, renders and sends them, and marks each sent.

Rows hold the event's name and its parameters, never a rendered body: the body is rendered
at send time in the recipient's language, and the parameters are cleared once the message
is sent or has finally failed. What stays (event, recipient reference, address, times,
state, last error) is what the municipality's notifications page shows, and is deleted after
``OUTBOX_RETENTION_DAYS`` (README, privacy notes).

The platform knows no actor package: who the municipality's staff are is answered by the
function the ``admin`` package registers with :func:`register_staff`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import JSON, Index, Integer, String, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.base import Base, UtcDateTime

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_ATTEMPTS = 8  # 1 + 7 retries over roughly four hours (see backoff)
BACKOFF_BASE = 60  # seconds before the first retry; doubles per attempt
BACKOFF_CAP = 3600


class OutboxMessage(Base):
    """One notification to one address, from being queued until it is sent or given up."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(60))  # e.g. "family.expiry_4w"
    recipient: Mapped[str] = mapped_column(String(80))  # "household:12", "shop:3", "admin_user:5"
    address: Mapped[str] = mapped_column(String(200))  # the e-mail address when queued
    language: Mapped[str] = mapped_column(String(5))  # nl | en
    # What the body is rendered from at send time; set to None once sent or failed for good.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Scheduled jobs: "job:period:recipient", so two workers never queue a message twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Whose notifications page lists it (None: installation-wide, e.g. a shop's application).
    municipality_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The claim of the worker sending it, and when that claim lapses (a killed worker's
    # rows are sent again after it, with the same Message-ID).
    claim: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    def message_id(self, domain: str) -> str:
        """Return the RFC 5322 Message-ID of this row: the same on every attempt."""
        digest = hashlib.sha256(
            f"{self.id}|{self.event}|{self.recipient}|{self.created_at.isoformat()}".encode()
        ).hexdigest()[:20]
        return f"<kp.{self.id}.{digest}@{domain}>"


class NotificationPreference(Base):
    """What a recipient chose to receive; categories absent here take their default."""

    __tablename__ = "notification_preferences"

    recipient: Mapped[str] = mapped_column(String(80), primary_key=True)  # "household:12"
    # {"reminders": false, "receipts": true, ...}
    choices: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobRun(Base):
    """One run of a scheduled job for one period; its key is claimed by one worker only."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "2026-11-30"
    queued: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkerHeartbeat(Base):
    """The last sign of life of each worker process (name = host:pid)."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to: a reference (never a name), an address and a language."""

    ref: str  # "household:12"
    address: str
    language: str = "nl"


Staff = Callable[[Session, Iterable[int] | None], list[tuple[int, Recipient]]]
_staff: list[Staff] = []


def register_staff(resolve: Staff) -> None:
    """Let the package owning staff accounts say who hears a municipality's notices.

    ``resolve(session, municipality_ids)`` returns ``(municipality id, recipient)`` pairs;
    ``None`` as ids means every municipality (a shop applies to the installation).
    """
    _staff[:] = [resolve]


# -- preferences -----------------------------------------------------------------------------

# category -> on unless the recipient switched it off. Receipts are off unless switched on.
DEFAULTS = {"account": True, "reminders": True, "receipts": False, "shop": True, "staff": True}


def preferences(session: Session, recipient: str) -> dict[str, bool]:
    """Return every category's choice for ``recipient`` (defaults filled in)."""
    row = session.get(NotificationPreference, recipient)
    return DEFAULTS | dict(row.choices if row else {})


def chose(choices: dict[str, bool] | None, category: str) -> bool:
    """Return whether stored ``choices`` (a preference row's, or None) take ``category``."""
    return (DEFAULTS | dict(choices or {})).get(category, True)


def choices_of(recipient: Any) -> Any:
    """Return a scalar subquery of the stored choices of ``recipient`` (a SQL expression).

    For hot paths that read a recipient's choices in the query they make anyway.
    """
    table = NotificationPreference.__table__.c
    return select(table.choices).where(table.recipient == recipient).scalar_subquery()


def set_preferences(session: Session, recipient: str, choices: dict[str, bool]) -> dict[str, bool]:
    """Store ``choices`` (only known categories) and return what was chosen before."""
    before = preferences(session, recipient)
    row = session.get(NotificationPreference, recipient)
    clean = {k: bool(v) for k, v in choices.items() if k in DEFAULTS}
    if row is None:
        session.add(NotificationPreference(recipient=recipient, choices=clean, updated_at=_now()))
    else:
        row.choices = dict(row.choices) | clean
        row.updated_at = _now()
    return before


def wants(session: Session, recipient: str, category: str) -> bool:
    """Return whether ``recipient`` receives notices of ``category``."""
    row = session.get(NotificationPreference, recipient)
    return chose(row.choices if row else None, category)


def opted_in(session: Session, recipients: Sequence[str], category: str) -> set[str]:
    """Return those of ``recipients`` that receive ``category`` (one query per 500)."""
    default = DEFAULTS.get(category, True)
    chosen: dict[str, bool] = {}
    for start in range(0, len(recipients), 500):
        chunk = recipients[start : start + 500]
        for ref, choices in session.execute(
            select(NotificationPreference.recipient, NotificationPreference.choices).where(
                NotificationPreference.recipient.in_(chunk)
            )
        ):
            if category in (choices or {}):
                chosen[ref] = bool(choices[category])
    return {r for r in recipients if chosen.get(r, default)}


# -- queueing --------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _row(
    event: str,
    to: Recipient,
    params: dict[str, Any],
    municipality_id: int | None,
    dedupe_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "event": event,
        "recipient": to.ref,
        "address": to.address,
        "language": to.language if to.language in ("nl", "en") else "nl",
        "params": params,
        "dedupe_key": dedupe_key,
        "municipality_id": municipality_id,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue(
    session: Session,
    event: str,
    to: Recipient,
    params: dict[str, Any],
    *,
    municipality_id: int | None = None,
    category: str | None = None,
) -> bool:
    """Queue ``event`` for ``to`` in the caller's transaction; False when opted out.

    ``params`` must be JSON-safe (cents as int, days as ISO text) and hold only what the
    message needs: they are rendered at send time and cleared afterwards.
    """
    from kindpakket.notices import EVENTS

    category = category or EVENTS[event].category
    if not to.address or not wants(session, to.ref, category):
        return False
    session.add(OutboxMessage(**_row(event, to, params, municipality_id, None, _now())))
    return True


def enqueue_many(
    session: Session,
    rows: Iterable[tuple[str, Recipient, dict[str, Any], int | None, str | None]],
) -> int:
    """Queue many notices at once, skipping any whose dedupe key is already queued.

    Rows are ``(event, recipient, params, municipality id, dedupe key)``. Opt-outs are the
    caller's to apply (see :func:`opted_in`). Returns how many were queued.
    """
    now = _now()
    values = [_row(e, to, p, m, k, now) for e, to, p, m, k in rows if to.address]
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    table = OutboxMessage.__table__
    stmt: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # RETURNING counts what was inserted (executemany's rowcount is -1 on psycopg).
    stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    queued = 0
    for start in range(0, len(values), 2000):
        queued += len(session.execute(stmt, values[start : start + 2000]).all())
    return queued


def notify_staff(
    session: Session,
    event: str,
    params: dict[str, Any],
    *,
    municipalities: Iterable[int] | None,
    dedupe: str | None = None,
) -> int:
    """Queue ``event`` for the staff of ``municipalities`` (None: of every municipality)."""
    if not _staff:
        return 0
    people = _staff[0](session, municipalities)
    if dedupe is None:
        return sum(
            enqueue(session, event, to, params, municipality_id=m, category="staff")
            for m, to in people
        )
    wanted = opted_in(session, [to.ref for _, to in people], "staff")
    rows = [(event, to, params, m, f"{dedupe}:{to.ref}") for m, to in people if to.ref in wanted]
    return enqueue_many(session, rows)


def claim_job(session: Session, job: str, period: str) -> bool:
    """Claim the run of ``job`` for ``period`` in this transaction; False if already run.

    The row commits with the messages the run queues, so a run that crashes leaves no
    claim behind, and a second worker's insert waits for (then loses to) the first.
    """
    dialect = session.get_bind().dialect.name
    table = JobRun.__table__
    stmt: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = stmt.values(job=job, period=period, queued=0, done_at=_now())
    result = session.execute(stmt.on_conflict_do_nothing(index_elements=["job", "period"]))
    return bool(result.rowcount)


def record_job(session: Session, job: str, period: str, queued: int) -> None:
    """Note how many messages the run of ``job`` for ``period`` queued."""
    session.execute(
        update(JobRun).where(JobRun.job == job, JobRun.period == period).values(queued=queued)
    )


def backoff(attempts: int) -> timedelta:
    """Return the wait before attempt ``attempts + 1``: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def absolute_url(path: str = "") -> str:
    """Return an absolute link into this installation for a message's button.

    Empty outside an app (a service called from a plain test or script): the message then
    goes without a button rather than the change failing.
    """
    if not has_app_context():
        return ""
    base = str(current_app.config.get("BASE_URL") or "")
    return f"{base.rstrip('/')}{path}" if base else ""
