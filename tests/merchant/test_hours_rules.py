"""Opening hours without a database: what a shop may enter, and when it is open now.

"Open now" reads Amsterdam's clock, so the moments below are written in UTC and the
comments say what the clock in the shop shows (CET is UTC+1, CEST UTC+2; in 2026 summer
time starts on 29 March and ends on 25 October).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_babel import force_locale

from kindpakket.errors import DomainError
from merchant import hours

MON, TUE, WED, SAT, SUN = 0, 1, 2, 5, 6


def week(note: str | None = None, **days: list[tuple[str, str]]) -> hours.Week:
    """Return a checked week from {"monday": [("09:00", "12:30")], ...}."""
    return hours.parse_week({hours.DAYS.index(d): ps for d, ps in days.items()}, note)


def refused(note: str | None = None, **days: list[tuple[str, str]]) -> hours.HoursRefused:
    with pytest.raises(hours.HoursRefused) as caught:
        week(note, **days)
    return caught.value


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ------------------------------------------------------------------------------ what is valid


def test_a_week_with_a_lunch_break_a_closed_day_and_a_note() -> None:
    got = week(
        "closed on public holidays",
        monday=[("13:30", "17:30"), ("9:00", "12.30")],  # any order, 9:00 and 12.30 accepted
        saturday=[("10:00", "16:00")],
    )
    assert got.days[MON] == (hours.Period(540, 750), hours.Period(810, 1050))
    assert got.days[SUN] == () and got.given and got.note == "closed on public holidays"
    assert got.audit() == {
        "hours": {"monday": ["09:00-12:30", "13:30-17:30"], "saturday": ["10:00-16:00"]},
        "note": "closed on public holidays",
    }


def test_empty_fields_mean_closed_and_no_period_at_all_means_not_given() -> None:
    empty = week("  ", monday=[("", ""), (" ", "")])
    assert not empty.given and empty.note is None
    assert week("Op afspraak", sunday=[]).note == "Op afspraak"


def test_24_00_may_close_a_day_but_not_open_one() -> None:
    assert week(friday=[("20:00", "24:00")]).days[4] == (hours.Period(1200, 1440),)
    assert refused(friday=[("24:00", "24:00")]).code == "hours_bad_time"


@pytest.mark.parametrize("text", ["9", "0900", "25:00", "12:60", "9:5", "noon", "-1:00", "٠٩:٠٠"])
def test_a_time_must_be_hours_and_minutes(text: str) -> None:
    problem = refused(tuesday=[(text, "17:00")])
    assert problem.code == "hours_bad_time" and problem.details == {
        "problems": {"tuesday": "hours_bad_time"}
    }


@pytest.mark.parametrize(
    ("periods", "code"),
    [
        ([("17:00", "09:00")], "hours_end_before_start"),
        ([("09:00", "09:00")], "hours_end_before_start"),
        ([("09:00", "")], "hours_incomplete"),
        ([("", "17:00")], "hours_incomplete"),
        ([("09:00", "13:00"), ("12:30", "17:00")], "hours_overlap"),
        ([("09:00", "17:00"), ("10:00", "11:00")], "hours_overlap"),
        ([("08:00", "10:00"), ("11:00", "12:00"), ("13:00", "14:00")], "hours_too_many_periods"),
    ],
)
def test_each_refused_day_has_its_own_code(periods: list[tuple[str, str]], code: str) -> None:
    assert refused(wednesday=periods).code == code


def test_periods_that_touch_do_not_overlap() -> None:
    assert len(week(monday=[("09:00", "12:00"), ("12:00", "17:00")]).days[MON]) == 2


def test_every_problem_of_every_day_is_named_at_once() -> None:
    problem = refused("x" * 201, monday=[("17:00", "09:00")], sunday=[("ab", "12:00")])
    assert [(p.day, p.code) for p in problem.problems] == [
        (MON, "hours_end_before_start"),
        (SUN, "hours_bad_time"),
        (None, "hours_note_too_long"),
    ]
    assert problem.code == "hours_end_before_start"  # the API answers the first


def test_the_note_has_at_most_200_characters_and_no_nul() -> None:
    assert week("é" * 200).note == "é" * 200
    assert refused("é" * 201).code == "hours_note_too_long"
    assert refused("closed\x00").code == "invalid_text"  # the same gate as every request


def test_messages_name_the_day_and_the_times_in_dutch_and_english(app: Flask) -> None:
    with app.test_request_context():
        problem = refused(
            monday=[("17:00", "09:00")], tuesday=[("09:00", "13:00"), ("12:00", "17:00")]
        )
        dutch = [str(p.message) for p in problem.problems]
        assert dutch[0].startswith("Maandag: de sluitingstijd (09:00) moet na de openingstijd")
        assert dutch[1] == "Dinsdag: de periodes 09:00-13:00 en 12:00-17:00 overlappen elkaar."
        with force_locale("en"):
            problem = refused(thursday=[("9:75", "17:00")])
            assert str(problem.message) == (
                "Thursday: “9:75” is not a time. Write hours and minutes, e.g. 09:00 or 17:30."
            )
        with force_locale("en"):
            assert hours.day_names()[SUN] == "Sunday"
        assert hours.day_names()[SUN] == "Zondag"
        assert hours.day_names(title=False)[SUN] == "zondag"


# ---------------------------------------------------------------------------------- open now

SHOP = week(
    monday=[("09:00", "12:30"), ("13:30", "17:30")],
    tuesday=[("09:00", "17:30")],
    saturday=[("22:00", "24:00")],
    sunday=[("00:00", "02:00"), ("10:00", "16:00")],
)


def test_open_and_closed_within_a_day_and_over_the_lunch_break() -> None:
    # Monday 7 December 2026, winter time (CET, UTC+1)
    assert hours.state(SHOP, utc(2026, 12, 7, 7, 59)) == hours.OpenState(
        False, next_day=MON, next_opens=540, day=MON, later_today=True
    )  # 08:59
    assert hours.state(SHOP, utc(2026, 12, 7, 8, 0)) == hours.OpenState(True, until=750, day=MON)
    assert not hours.state(SHOP, utc(2026, 12, 7, 11, 30)).open  # 12:30: the break
    lunch = hours.state(SHOP, utc(2026, 12, 7, 12, 0))  # 13:00
    assert (lunch.open, lunch.next_opens, lunch.later_today) == (False, 810, True)
    evening = hours.state(SHOP, utc(2026, 12, 7, 16, 30))  # 17:30: closed, Tuesday next
    assert (evening.open, evening.next_day, evening.next_opens) == (False, TUE, 540)


def test_around_midnight_the_weekday_is_amsterdams_not_utcs() -> None:
    # Saturday 12 December 2026 23:59 CET (22:59 UTC): open until Sunday 02:00
    late = hours.state(SHOP, utc(2026, 12, 12, 22, 59))
    assert late.open and late.until == 120 and late.day == SAT
    # 23:30 UTC on Saturday is already Sunday 00:30 in Amsterdam: Sunday's hours apply
    assert hours.state(SHOP, utc(2026, 12, 12, 23, 30)) == hours.OpenState(True, until=120, day=SUN)
    # Sunday 02:00 CET: closed, opens again at 10:00 the same day
    night = hours.state(SHOP, utc(2026, 12, 13, 1, 0))
    assert (night.open, night.next_day, night.next_opens, night.later_today) == (
        False,
        SUN,
        600,
        True,
    )
    # Wednesday 23:00 UTC is Thursday 00:00 in Amsterdam; the next opening is Saturday 22:00
    thursday = hours.state(SHOP, utc(2026, 12, 9, 23, 0))
    assert (thursday.day, thursday.next_day, thursday.next_opens) == (3, SAT, 1320)


def test_summer_time_moves_the_opening_by_an_hour_in_utc() -> None:
    # 07:30 UTC on a Monday: 08:30 CET in December (closed), 09:30 CEST in June (open)
    assert not hours.state(SHOP, utc(2026, 12, 7, 7, 30)).open
    assert hours.state(SHOP, utc(2026, 6, 1, 7, 30)).open


def test_the_night_clocks_change_on_sunday() -> None:
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST. Open 00:00-02:00 on Sunday:
    assert hours.state(SHOP, utc(2026, 3, 29, 0, 59)).open  # 01:59 CET
    assert not hours.state(SHOP, utc(2026, 3, 29, 1, 0)).open  # 03:00 CEST, closed
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET; 01:30 local happens once, 02:30 twice
    assert hours.state(SHOP, utc(2026, 10, 24, 23, 30)).open  # 01:30 CEST
    assert not hours.state(SHOP, utc(2026, 10, 25, 0, 30)).open  # 02:30 CEST
    assert not hours.state(SHOP, utc(2026, 10, 25, 1, 30)).open  # 02:30 CET, again
    assert hours.state(SHOP, utc(2026, 10, 25, 9, 0)).open  # 10:00 CET


def test_a_week_without_hours_is_never_open_and_has_no_next_opening() -> None:
    nothing = hours.state(hours.Week(), utc(2026, 12, 7, 12, 0))
    assert nothing == hours.OpenState(False, day=MON)


def test_one_period_a_week_is_found_again_a_week_later() -> None:
    once = week(monday=[("09:00", "10:00")])
    after = hours.state(once, utc(2026, 12, 7, 10, 0))  # Monday 11:00: next Monday
    assert (after.next_day, after.next_opens, after.later_today) == (MON, 540, False)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        hours.state(SHOP, datetime(2026, 12, 7, 12, 0))


def test_the_refusal_is_a_domain_error_with_a_body_per_day() -> None:
    problem = refused(monday=[("x", "y")])
    assert isinstance(problem, DomainError)
    assert problem.to_dict()["error"]["problems"] == {"monday": "hours_bad_time"}
