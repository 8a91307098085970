"""Salesforce's value form: the one shape a value has on its way to Salesforce and back.

A value mapsync writes must equal the value it reads back, or every cycle rewrites it: so
dates are ``YYYY-MM-DD``, datetimes UTC to the second, numbers floats (integral ones as
int), text trimmed with blank text as null (Salesforce stores it so). The diff compares in
this form, Collections send it as JSON, and Bulk jobs write it as CSV cells.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

BULK_NULL = "#N/A"  # a CSV cell that sets a field to null in a Bulk ingest job


def wire(value: Any) -> Any:
    """A value in Salesforce's JSON form, as it is sent and as it is read back."""
    kind = type(value)  # the common exact types first: a synced record passes here ~40 times
    if kind is str:
        return value.strip() or None
    if kind is float or kind is int:
        number = round(float(value), 6)
        return int(number) if number.is_integer() else number
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        number = round(float(value), 6)
        return int(number) if number.is_integer() else number
    if isinstance(value, str):
        # Salesforce trims text and stores blank text as null: comparing untrimmed text
        # with what it reads back would rewrite the same value every cycle
        return value.strip() or None
    return value


def csv_cell(value: Any) -> str:
    """The same value as a Bulk API 2.0 CSV cell (null as ``#N/A``, booleans lower-case)."""
    if type(value) is str:  # most cells: text, trimmed
        return value.strip() or BULK_NULL
    value = wire(value)
    if value is None:
        return BULK_NULL
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)
