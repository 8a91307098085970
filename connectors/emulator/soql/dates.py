"""Salesforce date constants (``TODAY``, ``LAST_N_DAYS:7``, ``THIS_QUARTER`` ...) as day ranges.

Each constant names a half-open range of days ``[start, end)`` relative to "today", which the
caller derives from an explicit ``now`` (never the clock), so queries are reproducible in tests.
Weeks start on Sunday (Salesforce's default en_US locale); fiscal periods follow the default
fiscal year, which starts in January, so they equal the calendar quarters and years.
"""

from __future__ import annotations

from datetime import date, timedelta

# name → whether it takes ``:n``
CONSTANTS: dict[str, bool] = dict.fromkeys((
        "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
        "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS",
        "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
        "THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER",
        "THIS_FISCAL_YEAR", "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR",
), False) | dict.fromkeys((
        "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
        "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS", "NEXT_N_QUARTERS",
        "N_QUARTERS_AGO", "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
        "LAST_N_FISCAL_QUARTERS", "NEXT_N_FISCAL_QUARTERS", "N_FISCAL_QUARTERS_AGO",
        "LAST_N_FISCAL_YEARS", "NEXT_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO",
), True)

DayRange = tuple[date, date]


def _add_months(d: date, months: int) -> date:
    """The first day of the month ``months`` after ``d``'s month."""
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _periods(start: date, months: int, before: int, count: int) -> DayRange:
    """``count`` periods of ``months`` months, beginning ``before`` periods before ``start``."""
    first = _add_months(start, -before * months)
    return first, _add_months(first, count * months)


def day_range(name: str, n: int | None, today: date) -> DayRange:
    """The half-open range of days ``[start, end)`` the constant names, seen from ``today``."""
    name = name.upper().replace("_FISCAL", "")
    name = {"LAST_90_DAYS": "LAST_N_DAYS", "NEXT_90_DAYS": "NEXT_N_DAYS"}.get(name, name)
    if name in ("LAST_N_DAYS", "NEXT_N_DAYS") and n is None:
        n = 90
    k = n or 0
    day = timedelta(days=1)
    week = today - timedelta(days=(today.weekday() + 1) % 7)  # Sunday
    month = today.replace(day=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year = date(today.year, 1, 1)
    simple: dict[str, DayRange] = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_N_DAYS": (today - k * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (k + 1) * day),
        "N_DAYS_AGO": (today - k * day, today - (k - 1) * day),
        "LAST_WEEK": (week - 7 * day, week),
        "THIS_WEEK": (week, week + 7 * day),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "LAST_N_WEEKS": (week - 7 * k * day, week),
        "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (k + 1) * day),
        "N_WEEKS_AGO": (week - 7 * k * day, week - 7 * (k - 1) * day),
    }
    if name in simple:
        return simple[name]
    for unit, start, months in (("MONTH", month, 1), ("QUARTER", quarter, 3),
                                ("YEAR", year, 12)):
        if not name.endswith((unit, unit + "S", unit + "S_AGO")):
            continue
        table: dict[str, tuple[int, int]] = {
            f"LAST_{unit}": (1, 1), f"THIS_{unit}": (0, 1), f"NEXT_{unit}": (-1, 1),
            f"LAST_N_{unit}S": (k, k), f"NEXT_N_{unit}S": (-1, k), f"N_{unit}S_AGO": (k, 1),
        }
        if name in table:
            before, count = table[name]
            return _periods(start, months, before, count)
    raise KeyError(name)
