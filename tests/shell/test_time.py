"""Time: the aware-UTC column type on SQLite and PostgreSQL, Amsterdam days and clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kindpakket import time as clock
from kindpakket.audit import AuditEvent


def test_moments_come_back_aware_utc_whatever_zone_went_in(session: Session) -> None:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'Europe/Amsterdam'"))  # answers would be +01:00
    summer = datetime(2026, 7, 1, 0, 30, tzinfo=clock.ZONE)  # 22:30 UTC on 30 June
    winter = datetime(2026, 11, 30, 14, 4, 5, 123456, tzinfo=UTC)
    odd = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    for at in (summer, winter, odd):
        session.add(AuditEvent(at=at, actor="test", name="time.checked"))
    session.commit()
    session.expire_all()
    back = session.scalars(select(AuditEvent.at).order_by(AuditEvent.id)).all()
    assert back == [summer, winter, odd]  # the same instants
    assert all(b.tzinfo is UTC for b in back)
    assert back[0].isoformat() == "2026-06-30T22:30:00+00:00"
    assert back[1].isoformat() == "2026-11-30T14:04:05.123456+00:00"
    # Comparing in SQL works in UTC too: the Amsterdam day of 1 July starts at 22:00 UTC.
    first_july = session.scalars(
        select(AuditEvent.at).where(AuditEvent.at >= clock.day_start(date(2026, 7, 1)))
    ).all()
    assert summer in first_july


def test_pages_show_amsterdam_time_with_the_zone_named() -> None:
    winter = datetime(2026, 11, 30, 14, 4, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert clock.format_moment(winter, "nl", clock.SHORT) == "30-11-2026 15:04 CET"
    assert clock.format_moment(winter, "en") == "30 Nov 2026 15:04 CET"
    assert clock.format_moment(summer, "nl") == "1 jul 2026 12:00 CEST"
    assert clock.format_moment("2026-11-30T23:30:00.000000Z", "nl") == "1 dec 2026 00:30 CET"
    assert clock.format_day(date(2026, 12, 7), "nl") == "maandag 7 december 2026"
    assert clock.format_day(date(2026, 12, 7), "en") == "Monday 7 December 2026"


def test_days_are_amsterdam_days() -> None:
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # already 1 December in Amsterdam
    assert clock.local_day(late) == date(2026, 12, 1)
    assert clock.day_start(date(2026, 12, 1)) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.local_day(datetime(2026, 11, 30, 12, 0))  # whose noon? refused


def test_the_municipalitys_today_is_asked_of_kindpakket_time_only() -> None:
    """``date.today()`` is the server's day (UTC on most servers): from 23:00 UTC in winter it
    is still yesterday in Amsterdam, so a bank booking or a printed letter got the wrong date
    for an hour every night, and tests comparing it with the ledger's days failed then."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    wrong = ("date.today()", "datetime.now(UTC).date()", "datetime.utcnow().date()")
    found = [
        f"{path.relative_to(root)}:{number}"
        for package in ("kindpakket", "wallet", "merchant", "admin", "ledger", "tests", "bench")
        for path in sorted((root / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(w in line for w in wrong) and path.name != "test_time.py"
    ]
    assert not found, found
