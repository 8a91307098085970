"""Business days: the unit every plan date and every slip is counted in.

Due dates are promises people keep at work, so they never land on a weekend or a public
holiday, and a slip of "three days" over a long weekend is one business day. The mapping's
``calendar`` section (``CalendarSpec``) says which days do not count: weekends, the public
holidays of a country (and subdivision) from the ``holidays`` package, and listed dates.

The calendar keeps a sorted list of business days (as ordinals) for a span of years and answers
every question by bisection, so planning 100,000 Opportunities costs a few microseconds per
date; the span grows on demand. Semantics, used consistently by the planner:

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
from functools import lru_cache

import holidays as holidays_lib

from config.errors import ConfigurationError
from mappings.model import CalendarSpec

_SPAN_MARGIN_YEARS = 2
_MAX_YEAR_SPAN = 400


class BusinessCalendar:
    """Which days count as working days, with date arithmetic in business days."""

    __slots__ = (
        "_country", "_days", "_extra", "_first", "_hi", "_last", "_lo", "_skip_weekends",
        "_subdiv",
    )

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
        self._first = 0  # first covered year; 0 means nothing computed yet
        self._last = -1
        self._lo, self._hi = 1, 0  # ordinals of the first and last covered day
        self._days: list[int] = []
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
        days = self._cover(o)
        i = bisect_left(days, o)
        return i < len(days) and days[i] == o

    def holidays_in(self, year: int) -> frozenset[dt.date]:
        """Non-weekend days of ``year`` that do not count (public and listed holidays)."""
        return self._holidays_of_year(year)

    def next_business_day(self, day: dt.date) -> dt.date:
        o = day.toordinal()
        while True:
            days = self._cover(o)
            i = bisect_left(days, o)
            if i < len(days):
                return dt.date.fromordinal(days[i])
            self._widen(o, forward=True)

    def previous_business_day(self, day: dt.date) -> dt.date:
        o = day.toordinal()
        while True:
            days = self._cover(o)
            i = bisect_right(days, o) - 1
            if i >= 0:
                return dt.date.fromordinal(days[i])
            self._widen(o, forward=False)

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        if n == 0:
            return day
        o = day.toordinal()
        while True:
            days = self._cover(o)
            i = bisect_right(days, o) - 1 + n if n > 0 else bisect_left(days, o) + n
            if 0 <= i < len(days):
                return dt.date.fromordinal(days[i])
            self._widen(o, forward=n > 0)

    def subtract_business_days(self, day: dt.date, n: int) -> dt.date:
        return self.add_business_days(day, -n)

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        a, b = start.toordinal(), end.toordinal()
        if a == b:
            return 0
        self._cover(min(a, b))
        days = self._cover(max(a, b))
        return bisect_right(days, b) - bisect_right(days, a)

    # --- the covered span ------------------------------------------------------------------

    def _cover(self, ordinal: int) -> list[int]:
        """The business days of a span of years that includes ``ordinal``'s year."""
        if self._lo <= ordinal <= self._hi:
            return self._days
        year = dt.date.fromordinal(ordinal).year
        if self._last < self._first:
            self._rebuild(year - _SPAN_MARGIN_YEARS, year + _SPAN_MARGIN_YEARS)
        else:
            self._rebuild(
                min(self._first, year - _SPAN_MARGIN_YEARS),
                max(self._last, year + _SPAN_MARGIN_YEARS),
            )
        return self._days

    def _widen(self, ordinal: int, *, forward: bool) -> None:
        """Grow the span when an answer lies beyond it (long offsets, dense holiday lists)."""
        step = _SPAN_MARGIN_YEARS + 1
        first, last = self._first, self._last
        if forward:
            last = min(dt.MAXYEAR, last + step)
        else:
            first = max(dt.MINYEAR, first - step)
        if (first, last) == (self._first, self._last) or last - first > _MAX_YEAR_SPAN:
            raise ValueError(f"no business day within reach of {dt.date.fromordinal(ordinal)}")
        self._rebuild(first, last)

    def _rebuild(self, first: int, last: int) -> None:
        first, last = max(dt.MINYEAR, first), min(dt.MAXYEAR, last)
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
        self._first, self._last, self._days = first, last, days
        self._lo = dt.date(first, 1, 1).toordinal()
        self._hi = dt.date(last, 12, 31).toordinal()

    def _holidays_of_year(self, year: int) -> frozenset[dt.date]:
        return _holidays_of_year(self._country, self._subdiv, year) | frozenset(
            d for d in self._extra if d.year == year
        )


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
