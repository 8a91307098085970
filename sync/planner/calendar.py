"""Business days: the unit every plan date and every slip is counted in.

Due dates are promises people keep at work, so they never land on a weekend or a public
holiday, and a slip of "three days" over a long weekend is one business day. The mapping's
``calendar`` section (``CalendarSpec``) says which days do not count: weekends, the public
holidays of a country (and subdivision) from the ``holidays`` package, and listed dates.

The calendar keeps sorted lists of business days (as ordinals) for a few spans of years and
answers every question by bisection, so planning 100,000 Opportunities costs a few microseconds
per date. A span grows on demand when an answer lies just past it; a date far from every span
gets a span of its own (a few years), so a close date in 1700 or 4000 costs a few thousand
days, not a table of every day in between. Counting business days between two far-apart spans
adds whole years by arithmetic (weekdays less that year's holidays). Dates are those Salesforce
holds, 1700-01-01..4000-12-31, and a few years beyond for work-back and go-live arithmetic; a
date further out raises :class:`~config.errors.PlanningError`. Semantics, used consistently by
the planner:

- ``add_business_days(d, n)``: the n-th business day after ``d`` (before it for negative n);
  ``n == 0`` returns ``d`` unchanged, even on a weekend.
- ``business_days_between(a, b)``: business days in ``(a, b]`` — positive when ``b`` is later,
  negative (the count of ``(b, a]``) when earlier, 0 for the same day.
- ``next_business_day(d)`` / ``previous_business_day(d)``: ``d`` itself when it is one.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import holidays as holidays_lib

from config.errors import ConfigurationError, PlanningError
from config.salesforce_dates import SALESFORCE_DATE_RANGE, SALESFORCE_MAX_DATE, SALESFORCE_MIN_DATE
from mappings.model import CalendarSpec

_SPAN_MARGIN_YEARS = 2
_MAX_YEAR_SPAN = 400
_JOIN_YEARS = 10  # a date this close to a span grows it; further away, it gets its own span
_MAX_SPANS = 6  # spans kept per calendar (most recently used), so memory stays bounded
_ANSWERS_KEPT = 1 << 16  # answers remembered per question, so memory stays bounded
_REACH_YEARS = 10  # years past Salesforce's range that date arithmetic may reach
_FIRST_YEAR = SALESFORCE_MIN_DATE.year - _REACH_YEARS
_LAST_YEAR = SALESFORCE_MAX_DATE.year + _REACH_YEARS


@dataclass(slots=True)
class _Span:
    """Business days (ordinals, sorted) of the whole years ``first``..``last``."""

    first: int
    last: int
    lo: int  # ordinal of 1 January of ``first``
    hi: int  # ordinal of 31 December of ``last``
    days: list[int]


class BusinessCalendar:
    """Which days count as working days, with date arithmetic in business days."""

    __slots__ = ("_added", "_between", "_country", "_extra", "_skip_weekends", "_spans",
                 "_subdiv", "_year_counts")

    def __init__(
        self,
        *,
        skip_weekends: bool = True,
        country: str | None = None,
        subdivision: str | None = None,
        holidays: Iterable[dt.date] = (),
    ) -> None:
        self._skip_weekends = skip_weekends
        self._country = country
        self._subdiv = subdivision
        self._extra = frozenset(holidays)
        self._spans: list[_Span] = []  # most recently used first
        self._year_counts: dict[int, int] = {}
        # answers already given: plans ask the same few questions (today, close dates) often
        self._added: dict[tuple[dt.date, int], dt.date] = {}
        self._between: dict[tuple[dt.date, dt.date], int] = {}
        if country is not None:
            try:
                holidays_lib.country_holidays(country, subdiv=subdivision, years=[])
            except NotImplementedError as err:
                raise ConfigurationError(
                    f"calendar: no public holidays known for {country!r}"
                    + (f" / {subdivision!r}" if subdivision else "")
                ) from err

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> BusinessCalendar:
        """The calendar a mapping describes; equal specs share one instance (and its cache)."""
        return _calendar_for(
            spec.skip_weekends,
            spec.holidays_country,
            spec.holidays_subdivision,
            tuple(sorted(set(spec.holidays))),
        )

    # --- questions -------------------------------------------------------------------------

    def is_business_day(self, day: dt.date) -> bool:
        o = day.toordinal()
        days = self._span(o).days
        i = bisect_left(days, o)
        return i < len(days) and days[i] == o

    def days_held(self) -> int:
        """Business days held in memory across the spans: what the calendar costs."""
        return sum(len(span.days) for span in self._spans)

    def holidays_in(self, year: int) -> frozenset[dt.date]:
        """Non-weekend days of ``year`` that do not count (public and listed holidays)."""
        return self._holidays_of_year(year)

    def next_business_day(self, day: dt.date) -> dt.date:
        o = day.toordinal()
        span = self._span(o)
        while True:
            i = bisect_left(span.days, o)
            if i < len(span.days):
                return dt.date.fromordinal(span.days[i])
            self._widen(span, o, forward=True)

    def previous_business_day(self, day: dt.date) -> dt.date:
        o = day.toordinal()
        span = self._span(o)
        while True:
            i = bisect_right(span.days, o) - 1
            if i >= 0:
                return dt.date.fromordinal(span.days[i])
            self._widen(span, o, forward=False)

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        if n == 0:
            return day
        answer = self._added.get((day, n))
        if answer is None:
            if len(self._added) >= _ANSWERS_KEPT:
                self._added.clear()
            answer = self._added[day, n] = self._add_business_days(day, n)
        return answer

    def _add_business_days(self, day: dt.date, n: int) -> dt.date:
        o = day.toordinal()
        span = self._span(o)
        while True:
            days = span.days
            i = bisect_right(days, o) - 1 + n if n > 0 else bisect_left(days, o) + n
            if 0 <= i < len(days):
                return dt.date.fromordinal(days[i])
            self._widen(span, o, forward=n > 0)

    def subtract_business_days(self, day: dt.date, n: int) -> dt.date:
        return self.add_business_days(day, -n)

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        answer = self._between.get((start, end))
        if answer is None:
            if len(self._between) >= _ANSWERS_KEPT:
                self._between.clear()
            answer = self._between[start, end] = self._business_days_between(start, end)
        return answer

    def _business_days_between(self, start: dt.date, end: dt.date) -> int:
        a, b = start.toordinal(), end.toordinal()
        if a == b:
            return 0
        x, y = min(a, b), max(a, b)
        low = self._span(x)
        high = self._span(y)  # may have grown ``low`` to reach ``y``
        if low.lo <= y <= low.hi:
            count = bisect_right(low.days, y) - bisect_right(low.days, x)
        elif high.lo <= x <= high.hi:
            count = bisect_right(high.days, y) - bisect_right(high.days, x)
        else:  # far apart: the rest of ``x``'s span, whole years between, the start of ``y``'s
            count = len(low.days) - bisect_right(low.days, x)
            first_year = low.last + 1
            if high.lo <= low.hi:  # overlapping spans: count ``y``'s part after ``low`` ends
                count += bisect_right(high.days, y) - bisect_right(high.days, low.hi)
            else:
                count += sum(self._year_count(year) for year in range(first_year, high.first))
                count += bisect_right(high.days, y)
        return count if b > a else -count

    # --- the covered spans -----------------------------------------------------------------

    def _span(self, ordinal: int) -> _Span:
        """A span of whole years that includes ``ordinal``."""
        spans = self._spans
        if spans and spans[0].lo <= ordinal <= spans[0].hi:  # as a moment ago, most often
            return spans[0]
        for k, span in enumerate(self._spans):
            if span.lo <= ordinal <= span.hi:
                if k:
                    self._spans.insert(0, self._spans.pop(k))
                return span
        day = dt.date.fromordinal(ordinal)
        if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
            raise PlanningError(
                f"date {day} is outside Salesforce's date range {SALESFORCE_DATE_RANGE}")
        first, last = day.year - _SPAN_MARGIN_YEARS, day.year + _SPAN_MARGIN_YEARS
        for span in self._spans:
            if span.first - _JOIN_YEARS <= day.year <= span.last + _JOIN_YEARS and (
                max(span.last, last) - min(span.first, first) <= _MAX_YEAR_SPAN
            ):
                self._rebuild(span, min(span.first, first), max(span.last, last))
                self._spans.remove(span)
                self._spans.insert(0, span)
                return span
        span = _Span(0, -1, 1, 0, [])
        self._rebuild(span, first, last)
        self._spans.insert(0, span)
        del self._spans[_MAX_SPANS:]
        return span

    def _widen(self, span: _Span, ordinal: int, *, forward: bool) -> None:
        """Grow a span when an answer lies beyond it (long offsets, dense holiday lists)."""
        step = _SPAN_MARGIN_YEARS + 1
        first, last = span.first, span.last
        if forward:
            last = min(_LAST_YEAR, last + step)
        else:
            first = max(_FIRST_YEAR, first - step)
        if (first, last) == (span.first, span.last) or last - first > _MAX_YEAR_SPAN:
            raise PlanningError(
                f"no business day within reach of {dt.date.fromordinal(ordinal)} inside "
                f"Salesforce's date range {SALESFORCE_DATE_RANGE}")
        self._rebuild(span, first, last)

    def _rebuild(self, span: _Span, first: int, last: int) -> None:
        first, last = max(_FIRST_YEAR, first), min(_LAST_YEAR, last)
        days: list[int] = []
        for year in range(first, last + 1):
            closed = {d.toordinal() for d in self._holidays_of_year(year)}
            start = dt.date(year, 1, 1).toordinal()
            end = dt.date(year, 12, 31).toordinal()
            for o in range(start, end + 1):
                if o in closed:
                    continue
                if self._skip_weekends and o % 7 in (6, 0):  # ordinal 1 is a Monday
                    continue
                days.append(o)
        span.first, span.last, span.days = first, last, days
        span.lo = dt.date(first, 1, 1).toordinal()
        span.hi = dt.date(last, 12, 31).toordinal()

    def _year_count(self, year: int) -> int:
        """Business days of a whole year, by arithmetic: its days, less weekends, less the
        holidays that fall on days that would otherwise count."""
        count = self._year_counts.get(year)
        if count is None:
            start = dt.date(year, 1, 1).toordinal()
            end = dt.date(year, 12, 31).toordinal()
            count = end - start + 1
            if self._skip_weekends:
                count -= _weekend_days(start, end)
            count -= sum(1 for d in self._holidays_of_year(year)
                         if not (self._skip_weekends and d.toordinal() % 7 in (6, 0)))
            self._year_counts[year] = count
        return count

    def _holidays_of_year(self, year: int) -> frozenset[dt.date]:
        return _holidays_of_year(self._country, self._subdiv, year) | frozenset(
            d for d in self._extra if d.year == year
        )


def _weekend_days(start: int, end: int) -> int:
    """Saturdays and Sundays among the ordinals ``start``..``end``."""
    def up_to(o: int) -> int:  # weekend days among ordinals 1..o (ordinal 6 is a Saturday)
        weeks, rest = divmod(o, 7)
        return 2 * weeks + (1 if rest == 6 else 0)

    return up_to(end) - up_to(start - 1)


@lru_cache(maxsize=64)
def _calendar_for(
    skip_weekends: bool,
    country: str | None,
    subdivision: str | None,
    listed: tuple[dt.date, ...],
) -> BusinessCalendar:
    return BusinessCalendar(
        skip_weekends=skip_weekends, country=country, subdivision=subdivision, holidays=listed
    )


@lru_cache(maxsize=1024)
def _holidays_of_year(
    country: str | None, subdivision: str | None, year: int
) -> frozenset[dt.date]:
    """Public holidays of one year; the ``holidays`` package is slow, so each year once."""
    if country is None:
        return frozenset()
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdivision, years=year))
