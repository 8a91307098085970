"""SOQL built from templates with every value escaped, never by string concatenation.

A value that reaches a query (an Opportunity name, a stage, an external id) is data from
Salesforce users; pasted into a query it could widen a filter (``' OR Name LIKE '%``). Values
go through simple-salesforce's quoting (strings quoted with ``\\``-escapes, dates and datetimes
as literals, lists as ``(…)``); ``{x:like}`` escapes a fragment for ``LIKE`` (``%`` and ``_``
included) and ``{x:name}`` admits only a field or object API name. The ``:literal`` escape
hatch of ``format_soql`` is refused here.
"""

from __future__ import annotations

import re
from typing import Any

from simple_salesforce.format import SoqlFormatter

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


class _StrictFormatter(SoqlFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        if format_spec == "literal":
            raise ValueError("soql() does not insert unescaped values; use {x:name} for API "
                             "names")
        if format_spec == "name":
            if not isinstance(value, str) or not _NAME.match(value):
                raise ValueError(f"not a Salesforce API name: {value!r}")
            return value
        return super().format_field(value, format_spec)


def soql(template: str, **values: Any) -> str:
    """``template`` with each ``{name}`` replaced by the escaped literal of ``values[name]``.

    >>> soql("SELECT Id FROM Opportunity WHERE Name = {name}", name="O'Brien")
    "SELECT Id FROM Opportunity WHERE Name = 'O\\\\'Brien'"
    """
    return _StrictFormatter().vformat(template, (), values)


def quote(value: Any) -> str:
    """The SOQL literal of one value (string, number, bool, None, date, datetime, list)."""
    return soql("{value}", value=value)
