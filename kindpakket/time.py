"""Time of the platform: moments are aware UTC, days and clocks people see are Amsterdam's.

The database column type (``ledger.base.UtcDateTime``) always answers aware UTC, so nothing
here (or anywhere) needs to guess what a naive value meant. Pages show Europe/Amsterdam with
the zone named ("30-11-2026 15:04 CET"), so a reader never wonders whose clock it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import Flask

from kindpakket.i18n import current_language

ZONE = ZoneInfo("Europe/Amsterdam")
SHORT = "dd-MM-yyyy HH:mm"  # shop lists, admin pages
LONG = "d MMM yyyy HH:mm"  # wallet, receipts


def now() -> datetime:
    """Return the current moment, aware UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date in the Netherlands (the municipality's day, not the server's)."""
    return datetime.now(ZONE).date()


def local(moment: datetime) -> datetime:
    """Return an aware moment on Amsterdam's clock; refuse a naive one (whose clock is it?)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no known zone; use aware UTC")
    return moment.astimezone(ZONE)


def local_day(moment: datetime) -> date:
    """Return the Amsterdam date of an aware moment."""
    return local(moment).date()


def day_start(day: date) -> datetime:
    """Return the UTC moment at which the Amsterdam day ``day`` begins."""
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)


def _lang(lang: str | None) -> str:
    return lang or current_language()


def format_moment(moment: datetime | str, lang: str | None = None, pattern: str = LONG) -> str:
    """Return a moment on Amsterdam's clock with the zone named, e.g. "30 nov 2026 15:04 CET".

    ``moment`` may also be the ledger's ISO text ("2026-11-30T14:04:05.000000Z").

    Babel formats the date in the reader's language; the zone is the tz database's short
    name (CET/CEST), which English Babel data lacks for Amsterdam (it would print +0100).
    """
    there = local(datetime.fromisoformat(moment) if isinstance(moment, str) else moment)
    shown = format_datetime(there, pattern, tzinfo=ZONE, locale=_lang(lang))
    return f"{shown} {there.tzname()}"


def format_day(day: date, lang: str | None = None, pattern: str = "EEEE d MMMM yyyy") -> str:
    """Return a day in words in the reader's language, e.g. "maandag 7 december 2026"."""
    return format_date(day, pattern, locale=_lang(lang))


def init_app(app: Flask) -> None:
    """Give every template the ``moment`` and ``local_day`` filters (Amsterdam, zone named)."""
    app.add_template_filter(format_moment, "moment")
    app.add_template_filter(local_day, "local_day")
