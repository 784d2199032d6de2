"""A shop's opening hours: a weekly schedule of wall-clock times in Amsterdam, and a note.

Each weekday has zero, one or two periods ("09:00-12:30" and "13:30-17:30"); a day without
one is closed, and a week without any period is "not given". Times are minutes after local
midnight, so 24:00 may close a day; a period never runs past midnight (a shop open late
gives 22:00-24:00 and 00:00-02:00 on the next day). "Open now" reads the Amsterdam clock of
:mod:`kindpakket.time`, so it follows summer time without looking at UTC.

Values here are immutable; parsing collects every problem of every day, each a
``DomainError`` code, so the form can show them all and the API answers the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from babel.dates import get_day_names
from flask_babel import lazy_gettext as _l

from kindpakket import time as clock
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.inputs import check_text

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_PERIODS = 2  # per day: morning and afternoon, with a lunch break between
MAX_NOTE = 200  # characters of the free-text note (the column's length)
END_OF_DAY = 24 * 60
_TIME = re.compile(r"([01]?[0-9]|2[0-4])[:.]([0-5][0-9])")


@dataclass(frozen=True, order=True)
class Period:
    """From ``opens`` to ``closes``, minutes after local midnight (0 .. 1440)."""

    opens: int
    closes: int

    def text(self) -> str:
        """Return "09:00-12:30" (ASCII, for the audit log and the API)."""
        return f"{hhmm(self.opens)}-{hhmm(self.closes)}"


@dataclass(frozen=True)
class Week:
    """Seven days of periods (Monday first, each sorted) and an optional note."""

    days: tuple[tuple[Period, ...], ...] = ((),) * 7
    note: str | None = None

    @property
    def given(self) -> bool:
        """Return True when at least one day has a period."""
        return any(self.days)

    def audit(self) -> dict[str, Any]:
        """Return the week as JSON-safe data for the audit log."""
        return {
            "hours": {DAYS[d]: [p.text() for p in ps] for d, ps in enumerate(self.days) if ps},
            "note": self.note,
        }


@dataclass(frozen=True)
class Problem:
    """One refused part of a week: the day (None for the note), a code and a message."""

    day: int | None
    code: str
    message: Any


class HoursRefused(DomainError):
    """Opening hours that cannot be stored: the first problem's code, and all problems."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        days = {DAYS[p.day] if p.day is not None else "note": p.code for p in problems}
        super().__init__(first.code, first.message, problems=days)
        self.problems = tuple(problems)

    def messages(self) -> dict[str, Any]:
        """Return each problem's message by weekday key (``monday``) or ``note``."""
        return {DAYS[p.day] if p.day is not None else "note": p.message for p in self.problems}


@dataclass(frozen=True)
class OpenState:
    """Whether a shop is open at a moment, and until when or from when."""

    open: bool
    until: int | None = None  # minute it closes (open), on ``day``
    next_day: int | None = None  # weekday of the next opening (closed), 0 = Monday
    next_opens: int | None = None  # minute of the next opening (closed)
    day: int = 0  # the weekday of the moment
    later_today: bool = False  # the next opening is on the same day


def hhmm(minute: int) -> str:
    """Return minutes after midnight as "HH:MM" (1440 is "24:00")."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def day_names(lang: str | None = None, *, title: bool = True) -> list[str]:
    """Return the weekday names, Monday first, in the reader's language (from Babel).

    ``title`` capitalises them for a heading or label ("Maandag"); in a sentence Dutch
    writes them in lower case ("opent maandag").
    """
    names = get_day_names("wide", context="stand-alone", locale=lang or current_language())
    if not title:
        return [names[d] for d in range(7)]
    return [names[d][:1].upper() + names[d][1:] for d in range(7)]


def parse_time(text: str, *, day: int, closing: bool) -> int:
    """Return "9:00", "09:00" or "9.00" as minutes; 24:00 only as a closing time."""
    found = _TIME.fullmatch(text.strip())
    minute = int(found.group(1)) * 60 + int(found.group(2)) if found else -1
    if not 0 <= minute <= (END_OF_DAY if closing else END_OF_DAY - 1):
        raise DomainError(
            "hours_bad_time",
            _l(
                "%(day)s: “%(text)s” is not a time. Write hours and minutes, e.g. 09:00 or 17:30.",
                day=day_names()[day],
                text=text.strip()[:10],
            ),
            day=DAYS[day],
        )
    return minute


def check_day(day: int, pairs: Iterable[tuple[str, str]]) -> tuple[Period, ...]:
    """Return a day's periods from (opens, closes) texts; empty pairs are skipped."""
    name = day_names()[day]
    periods = []
    for opens_text, closes_text in pairs:
        opens_text, closes_text = (opens_text or "").strip(), (closes_text or "").strip()
        if not opens_text and not closes_text:
            continue
        if not opens_text or not closes_text:
            raise DomainError(
                "hours_incomplete",
                _l("%(day)s: give both the opening and the closing time.", day=name),
                day=DAYS[day],
            )
        opens = parse_time(opens_text, day=day, closing=False)
        closes = parse_time(closes_text, day=day, closing=True)
        if closes <= opens:
            raise DomainError(
                "hours_end_before_start",
                _l(
                    "%(day)s: the closing time (%(closes)s) must be after the opening time"
                    " (%(opens)s). A shop open past midnight gives the hours after midnight"
                    " on the next day.",
                    day=name,
                    opens=hhmm(opens),
                    closes=hhmm(closes),
                ),
                day=DAYS[day],
            )
        periods.append(Period(opens, closes))
    if len(periods) > MAX_PERIODS:
        raise DomainError(
            "hours_too_many_periods",
            _l("%(day)s: give at most two periods (for example before and after lunch).", day=name),
            day=DAYS[day],
        )
    periods.sort()
    for first, second in pairwise(periods):
        if second.opens < first.closes:
            raise DomainError(
                "hours_overlap",
                _l(
                    "%(day)s: the periods %(first)s and %(second)s overlap.",
                    day=name,
                    first=first.text(),
                    second=second.text(),
                ),
                day=DAYS[day],
            )
    return tuple(periods)


def check_note(note: str | None) -> str | None:
    """Return the note without outer spaces (None when empty); refuse NUL or a long one."""
    text = " ".join(check_text(note or "", field="note").split())
    if len(text) > MAX_NOTE:
        raise DomainError(
            "hours_note_too_long",
            _l(
                "The note on opening hours has at most %(limit)s characters (now %(count)s).",
                limit=MAX_NOTE,
                count=len(text),
            ),
            field="note",
        )
    return text or None


def parse_week(days: Mapping[int, Iterable[tuple[str, str]]], note: str | None) -> Week:
    """Return the week from texts per weekday (0 = Monday); raise every problem at once."""
    problems: list[Problem] = []
    checked: list[tuple[Period, ...]] = []
    for day in range(7):
        try:
            checked.append(check_day(day, days.get(day, ())))
        except DomainError as err:
            problems.append(Problem(day, err.code, err.message))
            checked.append(())
    try:
        clean_note = check_note(note)
    except DomainError as err:
        problems.append(Problem(None, err.code, err.message))
    if problems:
        raise HoursRefused(problems)
    return Week(tuple(checked), clean_note)


def from_minutes(rows: Iterable[tuple[int, int, int]], note: str | None) -> Week:
    """Return the week of stored rows ``(weekday, opens, closes)``."""
    days: list[list[Period]] = [[] for _ in range(7)]
    for day, opens, closes in rows:
        days[day].append(Period(opens, closes))
    return Week(tuple(tuple(sorted(ps)) for ps in days), note)


def state(week: Week, moment: datetime) -> OpenState:
    """Return whether the shop is open at an aware ``moment``, on Amsterdam's clock."""
    there = clock.local(moment)
    day, minute = there.weekday(), there.hour * 60 + there.minute
    for period in week.days[day]:
        if period.opens <= minute < period.closes:
            return OpenState(True, until=_closing(week, day, period), day=day)
    for ahead in range(8):  # the rest of today, the next six days, then today a week on
        weekday = (day + ahead) % 7
        for period in week.days[weekday]:
            if ahead or period.opens > minute:
                return OpenState(
                    False,
                    next_day=weekday,
                    next_opens=period.opens,
                    day=day,
                    later_today=ahead == 0,
                )
    return OpenState(False, day=day)


def _closing(week: Week, day: int, period: Period) -> int:
    """Return when an open period really ends: 24:00 runs on into a 00:00 start next day."""
    following = week.days[(day + 1) % 7]
    if period.closes == END_OF_DAY and following and following[0].opens == 0:
        return following[0].closes
    return period.closes
