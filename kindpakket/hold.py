"""The service hold: after a restore that lost entries (or could not prove it lost none),
the app refuses to serve until someone decides, with ``kindpakket restore --accept-loss``.

The hold is a row in the restored database itself, so every app server on that database
sees it (a file on one host would stop only that host). The app reads it at most every
``CHECK_EVERY_SECONDS`` per process, so a hold costs no query on most requests.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.base import Base

CHECK_EVERY_SECONDS = 2.0


class ServiceHold(Base):
    """Why the service refuses to serve; present only while a decision is awaited."""

    __tablename__ = "service_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))  # entries_lost, unproven, does_not_extend
    # JSON: what the restore found (sizes, the seq range that was lost, the checkpoint used).
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def place(session: Session, reason: str, detail: dict[str, Any]) -> None:
    """Hold the service for ``reason`` (replacing an earlier hold)."""
    session.execute(delete(ServiceHold))
    session.add(
        ServiceHold(
            reason=reason, detail=json.dumps(detail, sort_keys=True), created_at=datetime.now(UTC)
        )
    )


def clear(session: Session) -> int:
    """Lift every hold; return how many there were."""
    return session.execute(delete(ServiceHold)).rowcount or 0


def current(session: Session) -> dict[str, Any] | None:
    """Return the hold as ``{"reason", **detail}``, or None when the service may serve."""
    row = session.execute(select(ServiceHold).limit(1)).scalar_one_or_none()
    if row is None:
        return None
    return {"reason": row.reason, **json.loads(row.detail)}


class HoldCache:
    """This process's memory of the hold, read again after ``CHECK_EVERY_SECONDS``."""

    def __init__(self) -> None:
        self._value: dict[str, Any] | None = None
        self._read_at = float("-inf")

    def get(self, read: Any) -> dict[str, Any] | None:
        """Return the hold, calling ``read()`` when the memory is older than allowed."""
        now = time.monotonic()
        if now - self._read_at >= CHECK_EVERY_SECONDS:
            self._value = read()
            self._read_at = now
        return self._value

    def forget(self) -> None:
        """Read the hold again on the next request."""
        self._read_at = float("-inf")
