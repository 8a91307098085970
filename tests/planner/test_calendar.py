"""Business-day arithmetic: the unit of every due date and every slip."""

from __future__ import annotations

import datetime as dt

import pytest

from config.errors import ConfigurationError
from mappings.model import CalendarSpec
from sync.planner.calendar import BusinessCalendar

D = dt.date
WEEKDAYS = BusinessCalendar()
US = BusinessCalendar(country="US")


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (WEEKDAYS, D(2026, 11, 20), True),  # Friday
        (WEEKDAYS, D(2026, 11, 21), False),  # Saturday
        (WEEKDAYS, D(2026, 11, 22), False),  # Sunday
        (WEEKDAYS, D(2026, 11, 26), True),  # Thanksgiving, but no country given
        (US, D(2026, 11, 26), False),  # Thanksgiving
        (US, D(2026, 7, 3), False),  # Independence Day observed (July 4th is a Saturday)
        (US, D(2026, 11, 27), True),
        (BusinessCalendar(skip_weekends=False), D(2026, 11, 21), True),
        (BusinessCalendar(holidays=[D(2026, 11, 24)]), D(2026, 11, 24), False),
    ],
)
def test_business_days_exclude_weekends_public_and_listed_holidays(
    calendar: BusinessCalendar, day: dt.date, expected: bool
) -> None:
    assert calendar.is_business_day(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Friday + 1 -> Monday
        (D(2026, 11, 21), 1, D(2026, 11, 23)),  # from a Saturday, the first business day after
        (D(2026, 11, 25), 1, D(2026, 11, 27)),  # over Thanksgiving
        (D(2026, 11, 23), -1, D(2026, 11, 20)),  # Monday - 1 -> Friday
        (D(2026, 11, 27), -1, D(2026, 11, 25)),  # back over Thanksgiving
        (D(2026, 11, 22), -1, D(2026, 11, 20)),  # from a Sunday, the business day before
        (D(2026, 11, 21), 0, D(2026, 11, 21)),  # zero keeps the day, even a Saturday
        (D(2026, 12, 24), 2, D(2026, 12, 29)),  # over Christmas and a weekend
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # over New Year into the next year
    ],
)
def test_adding_business_days_skips_days_off(start: dt.date, n: int, expected: dt.date) -> None:
    assert US.add_business_days(start, n) == expected
    if n:
        assert US.subtract_business_days(start, -n) == expected


def test_business_days_between_counts_the_days_after_start_up_to_end() -> None:
    assert US.business_days_between(D(2026, 11, 20), D(2026, 11, 23)) == 1
    assert US.business_days_between(D(2026, 11, 20), D(2026, 11, 30)) == 5  # Thanksgiving out
    assert US.business_days_between(D(2026, 11, 30), D(2026, 11, 20)) == -5
    assert US.business_days_between(D(2026, 11, 21), D(2026, 11, 22)) == 0  # a weekend
    assert US.business_days_between(D(2026, 11, 20), D(2026, 11, 20)) == 0


def test_rolling_lands_on_the_nearest_business_day_in_the_given_direction() -> None:
    assert US.next_business_day(D(2026, 11, 26)) == D(2026, 11, 27)
    assert US.previous_business_day(D(2026, 11, 26)) == D(2026, 11, 25)
    assert US.next_business_day(D(2026, 11, 27)) == D(2026, 11, 27)
    assert US.previous_business_day(D(2026, 11, 29)) == D(2026, 11, 27)


def test_dates_far_from_the_first_one_asked_are_answered_correctly() -> None:
    calendar = BusinessCalendar(country="US")
    assert calendar.is_business_day(D(2026, 1, 2))
    assert not calendar.is_business_day(D(2040, 12, 25))
    assert calendar.add_business_days(D(2026, 1, 2), 2500) > D(2035, 1, 1)
    assert calendar.add_business_days(D(2026, 1, 2), -2500) < D(2017, 1, 1)
    assert calendar.business_days_between(D(2000, 1, 14), D(2000, 1, 18)) == 1  # MLK Day 2000


def test_calendar_from_spec_combines_country_subdivision_and_listed_dates() -> None:
    spec = CalendarSpec(
        holidays_country="US", holidays_subdivision="CA", holidays=[D(2026, 12, 28)]
    )
    calendar = BusinessCalendar.from_spec(spec)
    assert not calendar.is_business_day(D(2026, 3, 31))  # César Chávez Day, California only
    assert US.is_business_day(D(2026, 3, 31))
    assert not calendar.is_business_day(D(2026, 12, 28))
    assert BusinessCalendar.from_spec(spec) is calendar  # one calendar (and cache) per spec


def test_unknown_holiday_country_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="XX"):
        BusinessCalendar(country="XX")
