"""The dates Salesforce can hold: 1700-01-01 to 4000-12-31.

Salesforce refuses to store a date field outside that range (its Data Loader and SOQL
references give the same bounds), so every date mapsync reads from an org is inside it. A
date outside it can only come from somewhere else (a bug, a hand-made fixture) and planning
refuses it with one line instead of computing calendars for the year 9999.
"""

from __future__ import annotations

import datetime as dt

SALESFORCE_MIN_DATE = dt.date(1700, 1, 1)
SALESFORCE_MAX_DATE = dt.date(4000, 12, 31)
SALESFORCE_DATE_RANGE = f"{SALESFORCE_MIN_DATE}..{SALESFORCE_MAX_DATE}"


def in_salesforce_range(day: dt.date) -> bool:
    """Whether Salesforce can store ``day`` in a date field."""
    return SALESFORCE_MIN_DATE <= day <= SALESFORCE_MAX_DATE
