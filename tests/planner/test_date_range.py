"""Close dates anywhere in Salesforce's range plan cheaply; outside it, one product error.

Salesforce holds dates from 1700-01-01 to 4000-12-31. A plan for a deal closing on 4000-12-29
must not build business-day tables for every year between today and then, and a CloseDate of
9999-12-31 (which Salesforce would never have stored) is refused in one line instead of
failing the whole cycle with a ValueError from the calendar.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc

import holidays
import pytest

from config.errors import MapsyncError, PlanningError
from sync.planner.calendar import BusinessCalendar
from sync.planner.planner import plan
from tests.planner.sample_mapping import sample_mapping
from tests.planner.support import OPP_ID, TODAY, opportunity

D = dt.date
MAPPING = sample_mapping()  # on the US public holiday calendar
FIVE_YEARS = 5 * 262  # business days in the few years a span around one date holds


def fresh_calendar() -> BusinessCalendar:
    spec = MAPPING.calendar
    return BusinessCalendar(skip_weekends=spec.skip_weekends, country=spec.holidays_country,
                            subdivision=spec.holidays_subdivision, holidays=spec.holidays)


@pytest.mark.parametrize("close", [D(1700, 1, 4), D(4000, 12, 29)])
def test_close_dates_at_the_ends_of_salesforces_range_plan_in_bounded_memory(
    close: dt.date,
) -> None:
    calendar = fresh_calendar()
    plan(opportunity(close=D(2026, 3, 31)), None, MAPPING, calendar, TODAY)  # a usual deal
    tracemalloc.start()
    try:
        result = plan(opportunity(close=close), None, MAPPING, calendar, TODAY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result is not None
    assert result.target_close_date == close
    dues = [m.due_date for m in result.milestones if m.due_date is not None]
    assert dues
    assert all(abs((d - close).days) < 400 for d in dues)
    assert peak < 5 * 1024 * 1024
    # a span around today and one around the close date, not every year in between
    assert calendar.days_held() <= 3 * FIVE_YEARS


def test_a_close_date_salesforce_cannot_hold_is_one_product_error() -> None:
    with pytest.raises(PlanningError) as refused:
        plan(opportunity(close=D(9999, 12, 31)), None, MAPPING, fresh_calendar(), TODAY)
    assert str(refused.value) == (
        f"Opportunity {OPP_ID}: CloseDate 9999-12-31 is outside Salesforce's date range "
        "1700-01-01..4000-12-31")
    assert isinstance(refused.value, MapsyncError)


@pytest.mark.parametrize("day", [D(9999, 12, 31), D(1, 1, 1), D(5000, 6, 1)])
def test_the_calendar_refuses_dates_far_outside_the_range_with_the_product_error(
    day: dt.date,
) -> None:
    calendar = BusinessCalendar()
    with pytest.raises(PlanningError, match=f"date {day} is outside Salesforce's date range"):
        calendar.add_business_days(day, 20)
    assert calendar.days_held() == 0


def test_business_days_between_far_apart_dates_are_exact() -> None:
    calendar = BusinessCalendar(country="US")
    start, end = D(1990, 7, 2), D(2026, 1, 5)  # further apart than a span grows to reach
    calendar.is_business_day(start)
    calendar.is_business_day(end)
    public = holidays.country_holidays("US", years=range(1990, 2027))
    expected = sum(
        1 for o in range(start.toordinal() + 1, end.toordinal() + 1)
        if (d := D.fromordinal(o)).weekday() < 5 and d not in public
    )
    assert calendar.business_days_between(start, end) == expected
    assert calendar.business_days_between(end, start) == -expected
    assert calendar.days_held() <= 2 * FIVE_YEARS


def test_weekdays_between_the_ends_of_the_range_count_without_a_table() -> None:
    calendar = BusinessCalendar()
    start, end = D(1700, 1, 4), D(4000, 12, 29)
    weeks, rest = divmod(end.toordinal() - start.toordinal(), 7)
    expected = 5 * weeks + sum(1 for k in range(1, rest + 1)
                               if D.fromordinal(start.toordinal() + weeks * 7 + k).weekday() < 5)
    assert calendar.business_days_between(start, end) == expected
    assert calendar.days_held() <= 2 * FIVE_YEARS


def test_answers_near_a_span_grow_it_instead_of_starting_another() -> None:
    calendar = BusinessCalendar(country="US")
    assert calendar.add_business_days(D(2026, 1, 2), 2500) > D(2035, 1, 1)
    assert calendar.is_business_day(D(2040, 12, 24))
    assert not calendar.is_business_day(D(2040, 12, 25))
    assert calendar.business_days_between(D(2026, 1, 2), D(2040, 12, 26)) == (
        calendar.business_days_between(D(2026, 1, 2), D(2035, 1, 2))
        + calendar.business_days_between(D(2035, 1, 2), D(2040, 12, 26)))
