"""TARGET2 business days: the days on which a SEPA credit transfer can be executed.

TARGET2 is closed on Saturdays, Sundays, New Year's Day, Good Friday, Easter Monday,
1 May and 25 and 26 December (ECB). A SEPA file asking for another day is executed on the
next business day by the bank anyway; we move the date ourselves and say so.
"""

from __future__ import annotations

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    """Return Easter Sunday (Gregorian calendar; anonymous Meeus/Jones/Butcher algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def closing_days(year: int) -> frozenset[date]:
    """Return the TARGET2 holidays of ``year`` (weekends are closed as well)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter - timedelta(days=2),  # Good Friday
            easter + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_business_day(day: date) -> bool:
    """Return True when TARGET2 is open on ``day``."""
    return day.weekday() < 5 and day not in closing_days(day.year)


def next_business_day(day: date) -> date:
    """Return ``day`` itself when TARGET2 is open then, else the first open day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
