"""Literal values checked against a field's type and turned into what storage holds.

Salesforce refuses a literal of the wrong type instead of coercing it (``CloseDate = '2024-01-31'``
fails with "must be of type date and should not be enclosed in quotes"), accepts 15- and
18-character Ids alike, and compares datetimes in UTC. Storage keeps dates as ``YYYY-MM-DD``,
datetimes as ``YYYY-MM-DDTHH:MM:SS.fff+0000``, booleans as 0/1 and Ids in 18 characters, so
these conversions make SQL comparisons exact.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from connectors.emulator.schema import NUMBER_TYPES, FieldDef
from connectors.emulator.soql import ast
from connectors.emulator.soql.errors import SoqlError, at

ID_TYPES = frozenset({"id", "reference"})
NUMERIC_TYPES = NUMBER_TYPES | {"long"}
_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_FRACTION = re.compile(r"\.(\d+)")


def id18(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character Id, or None if it is not an Id."""
    if not _ID.fullmatch(value):
        return None
    base = value[:15]
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(base[start:start + 5]) if "A" <= ch <= "Z")
        suffix += _ALNUM[bits]
    return base + suffix


def storage_datetime(moment: datetime) -> str:
    """A datetime in the storage form ``YYYY-MM-DDTHH:MM:SS.fff+0000`` (UTC)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def day_start(day: date) -> str:
    """The storage datetime of 00:00 UTC on ``day``."""
    return day.isoformat() + "T00:00:00.000+0000"


def soap_type(f: FieldDef) -> str:
    """The type name Salesforce uses in filter error messages."""
    if f.type in ("double", "currency", "percent"):
        return "double"
    return {"datetime": "dateTime", "int": "integer", "long": "long", "id": "id",
            "reference": "id"}.get(
        f.type, "boolean" if f.type == "boolean" else "date" if f.type == "date" else "string")


class LiteralChecker:
    """Converts literals for one field, raising Salesforce's errors for mismatches."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _wrong_type(self, f: FieldDef, v: ast.Value) -> SoqlError:
        expected = soap_type(f)
        quotes = "should be enclosed in quotes" if expected in ("string", "id") \
            else "should not be enclosed in quotes"
        return at("INVALID_FIELD", self.text, v.pos.line, v.pos.column,
                  f"value of filter criterion for field '{f.name}' must be of type "
                  f"{expected} and {quotes}")

    def _malformed(self, v: ast.Value, reason: str) -> SoqlError:
        return at("MALFORMED_QUERY", self.text, v.pos.line, v.pos.column, reason)

    def scalar(self, f: FieldDef, v: ast.Value) -> object:
        """The storage value a non-null, non-range literal compares as for field ``f``."""
        if f.type in ID_TYPES:
            if v.kind != "string":
                raise self._wrong_type(f, v)
            assert isinstance(v.value, str)
            normal = id18(v.value)
            if normal is None:
                raise at("INVALID_QUERY_FILTER_OPERATOR", self.text, v.pos.line, v.pos.column,
                         f"invalid ID field: {v.value}")
            return normal
        if f.type in NUMERIC_TYPES:
            if v.kind != "number":
                raise self._wrong_type(f, v)
            return v.value
        if f.type == "boolean":
            if v.kind != "boolean":
                raise self._wrong_type(f, v)
            return 1 if v.value else 0
        if f.type == "date":
            if v.kind != "date":
                raise self._wrong_type(f, v)
            return self._date(v).isoformat()
        if f.type == "datetime":
            if v.kind != "datetime":
                raise self._wrong_type(f, v)
            return storage_datetime(self._datetime(v))
        if v.kind not in ("string", "pattern"):
            raise self._wrong_type(f, v)
        return v.value

    def _date(self, v: ast.Value) -> date:
        try:
            return date.fromisoformat(v.text)
        except ValueError:
            raise self._malformed(v, f"line {v.pos.line}:{v.pos.column - 1} "
                                  f"invalid date: {v.text}") from None

    def _datetime(self, v: ast.Value) -> datetime:
        text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], v.text, count=1)
        try:
            return datetime.fromisoformat(text.upper())
        except ValueError:
            raise self._malformed(v, f"line {v.pos.line}:{v.pos.column - 1} "
                                  f"invalid datetime: {v.text}") from None
