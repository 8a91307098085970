"""Salesforce's value form: what is sent is what is read back, in JSON and in Bulk CSV."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.salesforce.values import csv_cell, wire


def test_text_is_trimmed_and_blank_text_is_null() -> None:
    assert wire("  Legal review ") == "Legal review"
    assert wire("   ") is None
    assert csv_cell("   ") == "#N/A"


def test_dates_datetimes_and_numbers_take_one_form() -> None:
    assert wire(dt.date(2030, 1, 2)) == "2030-01-02"
    stamp = dt.datetime(2030, 1, 2, 12, 30, 5, 999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert wire(stamp) == "2030-01-02T10:30:05.000+0000"
    assert wire(Decimal("10.00")) == 10
    assert wire(12.5) == 12.5
    assert csv_cell(10.0) == "10"


def test_a_bulk_cell_says_true_false_or_null() -> None:
    assert [csv_cell(True), csv_cell(False), csv_cell(None)] == ["true", "false", "#N/A"]
