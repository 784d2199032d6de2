"""Audit events: every state change records who did what, when, with data before and after.

Append-only (the database refuses UPDATE and DELETE, like the ledger). Dotted names such
as ``fund.created`` or ``shop.approved``, after warehouse's ``record_event``.

An event belongs to every municipality whose fund it touches (its *scope*): a shop approved
for the funds of two municipalities that changes its IBAN shows up in both audit logs. An
event with an empty scope is installation-wide (a shop applying, an unknown login).
Callers name the municipalities, or the funds and let the fund owner resolve them: the
platform does not read the funds table itself, the package that owns it registers
``register_fund_owner`` once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ledger.base import Base, UtcDateTime

# Actor of a person or process that is not logged in (a failed login, a public form).
ANONYMOUS = "anonymous"

FundOwner = Callable[[Session, Collection[int]], Iterable[int]]
_fund_owner: list[FundOwner] = []


class AuditEvent(Base):
    """One recorded action."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # e.g. "admin:3", "shop_user:7", "household:12", "cli", "anonymous"
    actor: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80), index=True)
    # e.g. "fund:3", "shop:9"
    subject: Mapped[str | None] = mapped_column(String(80), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    scopes: Mapped[list[AuditScope]] = relationship(lazy="selectin", cascade="save-update")

    @property
    def municipality_ids(self) -> set[int]:
        """Return the municipalities this event belongs to (empty: installation-wide)."""
        return {s.municipality_id for s in self.scopes}


class AuditScope(Base):
    """One municipality an audit event belongs to (append-only, like the event)."""

    __tablename__ = "audit_event_scopes"
    __table_args__ = (Index("ix_audit_event_scopes_municipality", "municipality_id", "event_id"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    # The municipality's id (wallet's ``municipalities`` table; no foreign key: the platform
    # knows no actor package's tables).
    municipality_id: Mapped[int] = mapped_column(Integer, primary_key=True)


def register_fund_owner(resolve: FundOwner) -> None:
    """Let the package owning funds say which municipality runs each fund id."""
    _fund_owner[:] = [resolve]


def municipalities_of(session: Session, fund_ids: Iterable[int | None]) -> set[int]:
    """Return the ids of the municipalities running ``fund_ids``."""
    ids = {i for i in fund_ids if i is not None}
    if not ids:
        return set()
    if not _fund_owner:
        raise RuntimeError("no fund owner registered with kindpakket.audit")
    return set(_fund_owner[0](session, ids))


def _request_ip() -> str | None:
    from flask import has_request_context, request

    return request.remote_addr if has_request_context() else None


def record_event(
    session: Session,
    name: str,
    *,
    actor: str,
    subject: str | None = None,
    municipalities: Iterable[int | None] = (),
    funds: Iterable[int | None] = (),
    tenant_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Record an audit event in the current transaction, in each municipality it touches.

    Args:
        session: the unit of work's session (the event commits or rolls back with it).
        name: dotted event name, e.g. ``shop.iban_changed``.
        actor: ``role:id`` of who did it (``cli``, ``anonymous``...), never personal data.
        subject: ``kind:id`` of what it was done to.
        municipalities: ids of the municipalities the change touches.
        funds: ids of the funds the change touches; their municipalities are added.
        tenant_id: one municipality (shorthand for ``municipalities=[tenant_id]``).
        before: data before the change (JSON-safe; no secrets such as PINs or codes).
        after: data after the change (likewise).
        ip: client address; by default the current request's.

    Returns:
        The event (not flushed).
    """
    scope = {m for m in municipalities if m is not None}
    if tenant_id is not None:
        scope.add(tenant_id)
    scope |= municipalities_of(session, funds)
    event = AuditEvent(
        at=datetime.now(UTC),
        actor=actor,
        name=name,
        subject=subject,
        before=before,
        after=after,
        ip=ip if ip is not None else _request_ip(),
        scopes=[AuditScope(municipality_id=m) for m in sorted(scope)],
    )
    session.add(event)
    return event
