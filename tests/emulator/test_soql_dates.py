"""Date constants as day ranges: each constant checked on a fixed day, edges included."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.emulator.soql.dates import CONSTANTS, day_range

THURSDAY = date(2024, 3, 14)  # week of Sunday 10 March, Q1


@pytest.mark.parametrize(("name", "n", "start", "end"), [
    ("TODAY", None, "2024-03-14", "2024-03-15"),
    ("YESTERDAY", None, "2024-03-13", "2024-03-14"),
    ("TOMORROW", None, "2024-03-15", "2024-03-16"),
    ("LAST_N_DAYS", 7, "2024-03-07", "2024-03-15"),
    ("NEXT_N_DAYS", 7, "2024-03-15", "2024-03-22"),
    ("N_DAYS_AGO", 3, "2024-03-11", "2024-03-12"),
    ("LAST_90_DAYS", None, "2023-12-15", "2024-03-15"),
    ("NEXT_90_DAYS", None, "2024-03-15", "2024-06-13"),
    ("THIS_WEEK", None, "2024-03-10", "2024-03-17"),
    ("LAST_WEEK", None, "2024-03-03", "2024-03-10"),
    ("NEXT_WEEK", None, "2024-03-17", "2024-03-24"),
    ("LAST_N_WEEKS", 2, "2024-02-25", "2024-03-10"),
    ("NEXT_N_WEEKS", 2, "2024-03-17", "2024-03-31"),
    ("N_WEEKS_AGO", 1, "2024-03-03", "2024-03-10"),
    ("THIS_MONTH", None, "2024-03-01", "2024-04-01"),
    ("LAST_MONTH", None, "2024-02-01", "2024-03-01"),
    ("NEXT_MONTH", None, "2024-04-01", "2024-05-01"),
    ("LAST_N_MONTHS", 3, "2023-12-01", "2024-03-01"),
    ("NEXT_N_MONTHS", 2, "2024-04-01", "2024-06-01"),
    ("N_MONTHS_AGO", 3, "2023-12-01", "2024-01-01"),
    ("THIS_QUARTER", None, "2024-01-01", "2024-04-01"),
    ("LAST_QUARTER", None, "2023-10-01", "2024-01-01"),
    ("NEXT_QUARTER", None, "2024-04-01", "2024-07-01"),
    ("LAST_N_QUARTERS", 2, "2023-07-01", "2024-01-01"),
    ("NEXT_N_QUARTERS", 1, "2024-04-01", "2024-07-01"),
    ("N_QUARTERS_AGO", 4, "2023-01-01", "2023-04-01"),
    ("THIS_YEAR", None, "2024-01-01", "2025-01-01"),
    ("LAST_YEAR", None, "2023-01-01", "2024-01-01"),
    ("NEXT_YEAR", None, "2025-01-01", "2026-01-01"),
    ("LAST_N_YEARS", 2, "2022-01-01", "2024-01-01"),
    ("NEXT_N_YEARS", 1, "2025-01-01", "2026-01-01"),
    ("N_YEARS_AGO", 1, "2023-01-01", "2024-01-01"),
    ("THIS_FISCAL_QUARTER", None, "2024-01-01", "2024-04-01"),
    ("LAST_N_FISCAL_YEARS", 1, "2023-01-01", "2024-01-01"),
])
def test_each_constant_names_a_half_open_day_range(name: str, n: int | None, start: str,
                                                   end: str) -> None:
    assert day_range(name, n, THURSDAY) == (date.fromisoformat(start), date.fromisoformat(end))


def test_a_week_that_starts_today_starts_on_sunday() -> None:
    assert day_range("THIS_WEEK", None, date(2024, 3, 10))[0] == date(2024, 3, 10)
    assert day_range("THIS_WEEK", None, date(2024, 3, 16))[0] == date(2024, 3, 10)


def test_month_ranges_cross_year_ends() -> None:
    assert day_range("NEXT_MONTH", None, date(2024, 12, 31)) == (date(2025, 1, 1),
                                                                date(2025, 2, 1))
    assert day_range("LAST_N_MONTHS", 13, date(2024, 1, 5))[0] == date(2022, 12, 1)


def test_every_known_constant_can_be_evaluated() -> None:
    for name, takes_n in CONSTANTS.items():
        start, end = day_range(name, 2 if takes_n else None, THURSDAY)
        assert start < end
