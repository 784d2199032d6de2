"""Reading the audit log of one municipality: filters, pages and a CSV export.

A municipality sees every event scoped to it (one event may belong to several) and the
installation-wide events (no municipality: a shop applying, a key rotated, an unknown login).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from admin.audit.auditnames import actor_label, event_label, subject_label
from admin.reports.exports import Table
from kindpakket.audit import AuditEvent, AuditScope
from kindpakket.time import day_start, local_day

PAGE = 50


@dataclass(frozen=True)
class Filters:
    """What to look for; empty fields match everything."""

    name: str = ""  # a prefix such as "settlement." or a full name
    actor: str = ""
    start: date | None = None
    end: date | None = None  # inclusive Dutch day


def visible_to(municipality_id: int) -> Any:
    """Return the condition "scoped to this municipality, or installation-wide"."""
    scope = select(AuditScope.event_id).where(AuditScope.event_id == AuditEvent.id)
    return or_(
        exists(scope.where(AuditScope.municipality_id == municipality_id)),
        ~exists(scope),
    )


def _query(tenant_id: int, f: Filters) -> Select[Any]:
    q = select(AuditEvent).where(visible_to(tenant_id))
    if f.name:
        q = q.where(AuditEvent.name.startswith(f.name.strip(), autoescape=True))
    if f.actor:
        q = q.where(AuditEvent.actor == f.actor.strip())
    if f.start:
        q = q.where(AuditEvent.at >= day_start(f.start))
    if f.end:
        q = q.where(AuditEvent.at < day_start(f.end + timedelta(days=1)))
    return q


def events(
    session: Session, tenant_id: int, f: Filters, *, page: int = 1, per_page: int = PAGE
) -> tuple[list[AuditEvent], int]:
    """Return one page of matching events (newest first) and the number of matches."""
    q = _query(tenant_id, f)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(
        q.order_by(AuditEvent.id.desc()).limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).scalars()
    return list(rows), int(total)


def names(session: Session, tenant_id: int) -> list[str]:
    """Return the event names used in this municipality (for the filter's choices)."""
    return list(
        session.execute(
            select(AuditEvent.name)
            .where(visible_to(tenant_id))
            .distinct()
            .order_by(AuditEvent.name)
        ).scalars()
    )


def as_json(value: dict[str, Any] | None) -> str:
    """Return before/after data as compact JSON ("" for none)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def table(session: Session, tenant_id: int, f: Filters) -> Table:
    """Return every matching event as a table for the CSV export (oldest first)."""
    rows = session.execute(_query(tenant_id, f).order_by(AuditEvent.id)).scalars()
    return Table(
        "audit",
        str(_l("Audit log")),
        [
            "id",
            str(_l("When")),
            str(_l("Who")),
            str(_l("Actor")),
            str(_l("What")),
            str(_l("Event")),
            str(_l("Subject")),
            str(_l("Before")),
            str(_l("After")),
            "IP",
        ],
        [
            [
                e.id,
                e.at.isoformat(timespec="seconds"),
                actor_label(e.actor),
                e.actor,
                event_label(e.name),
                e.name,
                e.subject or "",
                as_json(e.before),
                as_json(e.after),
                e.ip or "",
            ]
            for e in rows
        ],
    )


__all__ = [
    "PAGE",
    "Filters",
    "actor_label",
    "as_json",
    "event_label",
    "events",
    "local_day",
    "names",
    "subject_label",
    "table",
    "visible_to",
]
