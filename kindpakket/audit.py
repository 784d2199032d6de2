"""Audit events: every state change records who did what, when, with data before and after.

Append-only (the database refuses UPDATE and DELETE, like the ledger). Dotted names such
as ``fund.created`` or ``shop.approved``, after warehouse's ``record_event``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.base import Base, UtcDateTime


class AuditEvent(Base):
    """One recorded action."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Municipality the event belongs to (None for installation-wide events).
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # e.g. "admin:3", "merchant_user:7", "household:12", "cli", "system"
    actor: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80), index=True)
    # e.g. "fund:3", "shop:9"
    subject: Mapped[str | None] = mapped_column(String(80), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))


def record_event(
    session: Session,
    name: str,
    *,
    actor: str,
    subject: str | None = None,
    tenant_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Record an audit event in the current transaction."""
    event = AuditEvent(
        at=datetime.now(UTC),
        tenant_id=tenant_id,
        actor=actor,
        name=name,
        subject=subject,
        before=before,
        after=after,
        ip=ip,
    )
    session.add(event)
    return event
