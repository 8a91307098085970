"""Typed field values: JSON in, the storage layout of schema.py, JSON out.

Salesforce checks every value it is given against the field's describe (type, length,
restricted picklist values, Id shape) and fails the record with a specific code; a client
that classifies failures needs those exact codes, so coercion lives in one place and raises
``RecordFailed`` carrying them.

Dates: Salesforce holds date and datetime values from 1700-01-01T00:00:00Z to
4000-12-31T00:00:00Z GMT only (the bounds its Data Loader and SOQL references give). A value
that parses but lies outside fails the record with ``FIELD_INTEGRITY_EXCEPTION``, the code
Salesforce answers for an out-of-range date; a value that does not parse is
``INVALID_TYPE_ON_FIELD_IN_RECORD``, as before.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import math
import re
from datetime import UTC, date, datetime, timedelta, timezone

import orjson

from connectors.emulator import ids
from connectors.emulator.errors import RecordError, RecordFailed
from connectors.emulator.schema import FieldDef

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STRING_LIKE = frozenset({"string", "textarea", "picklist", "multipicklist", "email", "phone",
                         "url", "combobox", "encryptedstring"})
FLOAT_TYPES = frozenset({"double", "currency", "percent"})
INT_TYPES = frozenset({"int", "long"})
MIN_DATE, MAX_DATE = date(1700, 1, 1), date(4000, 12, 31)
MIN_DATETIME = datetime(1700, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(4000, 12, 31, tzinfo=UTC)
#: Salesforce's limit for blob data sent base64 in a JSON (non-multipart) body: 37.5 MB.
MAX_JSON_BLOB_BYTES = 37_500_000


def format_datetime(dt: datetime) -> str:
    """Salesforce's datetime text (``2026-01-31T09:15:00.000+0000``), in UTC.

    Salesforce keeps datetimes to the whole second: whatever fraction a client sends, and
    the moment a write commits at, are stored and answered as ``.000``. Many writes of one
    second therefore share a ``SystemModstamp``, which is what incremental readers must
    page through by ``(SystemModstamp, Id)``.
    """
    dt = dt.astimezone(UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.000+0000"


def parse_datetime(text: str) -> datetime | None:
    """An aware datetime from ISO 8601 text as clients send it, or None."""
    m = _DATETIME.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        tzinfo: timezone = UTC
        if tz and tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), micro,
                        tzinfo=tzinfo)
    except ValueError:
        return None


def _bad_format(f: FieldDef, value: object, java_type: str) -> RecordFailed:
    kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_" + type(value).__name__.upper()
    return RecordFailed(RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{f.label or f.name}: Cannot deserialize instance of {java_type} from {kind} value "
        f"{value} or request may be missing a required field",
        [f.name], parse_error=True))


def _out_of_range(f: FieldDef, value: object) -> RecordFailed:
    return RecordFailed(RecordError(
        "FIELD_INTEGRITY_EXCEPTION",
        f"{f.label or f.name}: value out of range: {value} (valid dates are "
        f"{MIN_DATE} to {MAX_DATE})", [f.name]))


def _in_range_date(f: FieldDef, day: date, value: object) -> str:
    if not MIN_DATE <= day <= MAX_DATE:
        raise _out_of_range(f, value)
    return day.isoformat()


def to_storage(f: FieldDef, value: object) -> object:
    """The stored form of ``value`` for field ``f`` (raises RecordFailed when invalid)."""
    if value is None:
        return None
    t = f.type
    label = f.label or f.name
    if t == "base64":
        return _blob(f, value)
    if t in STRING_LIKE or t == "id":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _bad_format(f, value, "string")
        if t == "multipicklist" and isinstance(value, list):
            value = ";".join(str(v) for v in value)
        # Salesforce trims text: surrounding whitespace is dropped, blank text is null
        text = (value if isinstance(value, str) else str(value)).strip()
        if text == "":
            return None
        if t == "picklist" and f.restricted_picklist and text not in f.picklist_values:
            raise RecordFailed(RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{label}: bad value for restricted picklist field: {text}", [f.name]))
        if t == "multipicklist" and f.restricted_picklist:
            for part in text.split(";"):
                if part and part not in f.picklist_values:
                    raise RecordFailed(RecordError(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"{label}: bad value for restricted picklist field: {part}", [f.name]))
        if f.length and len(text) > f.length:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise RecordFailed(RecordError(
                "STRING_TOO_LONG",
                f"{label}: data value too large: {shown} (max length={f.length})", [f.name]))
        if t == "email" and text and not _EMAIL.match(text):
            raise RecordFailed(RecordError(
                "INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {text}", [f.name]))
        return text
    if t == "reference":
        if not isinstance(value, str):
            raise _bad_format(f, value, "id")
        if value == "":
            return None
        norm = ids.normalize(value)
        if norm is None:
            raise RecordFailed(RecordError(
                "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [f.name]))
        return norm
    if t in FLOAT_TYPES or t in INT_TYPES:
        java = "double" if t in FLOAT_TYPES else "int"
        number: float
        if isinstance(value, bool):
            raise _bad_format(f, value, java)
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            if value.strip() == "":
                return None
            try:
                number = float(value)
            except ValueError:
                raise _bad_format(f, value, java) from None
        else:
            raise _bad_format(f, value, java)
        if math.isnan(number) or math.isinf(number):
            raise _bad_format(f, value, java)
        if f.precision:
            limit = 10 ** (f.precision - f.scale)
            if abs(number) >= limit:
                raise RecordFailed(RecordError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"{label}: value outside of valid range on numeric field: {value}",
                    [f.name]))
        if t in INT_TYPES:
            if number != int(number):
                raise _bad_format(f, value, java)
            return int(number)
        return round(number, f.scale) if f.scale else number
    if t == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        raise _bad_format(f, value, "boolean")
    if t == "date":
        if isinstance(value, str):
            m = _DATE.match(value.strip())
            day: date | None = None
            if m:
                with contextlib.suppress(ValueError):  # 2026-02-30: a bad format, below
                    day = date(int(m[1]), int(m[2]), int(m[3]))
            dt = parse_datetime(value) if day is None else None
            if dt is not None:
                day = dt.date()
            if day is not None:
                return _in_range_date(f, day, value)
        raise _bad_format(f, value, "date")
    if t == "datetime":
        if isinstance(value, str):
            dt = parse_datetime(value)
            if dt is not None:
                if not MIN_DATETIME <= dt <= MAX_DATETIME:
                    raise _out_of_range(f, value)
                return format_datetime(dt)
        raise _bad_format(f, value, "datetime")
    return value


def _blob(f: FieldDef, value: object) -> bytes:
    """The bytes of a base64 field's JSON value (at most 37.5 MB decoded)."""
    if not isinstance(value, str):
        raise _bad_format(f, value, "byte[]")
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _bad_format(f, value[:40], "byte[]") from None
    if len(data) > MAX_JSON_BLOB_BYTES:
        raise RecordFailed(RecordError(
            "MAXIMUM_SIZE_OF_DOCUMENT",
            f"{f.label or f.name}: blob data sent base64 in JSON is limited to 37.5 MB; "
            f"this is {len(data):,} bytes (send larger files as a multipart request)",
            [f.name]))
    return data


def to_json(f: FieldDef, stored: object) -> object:
    """The JSON value Salesforce answers for a stored value of field ``f``."""
    if stored is None:
        return None
    t = f.type
    if t == "boolean":
        return bool(stored)
    if t in FLOAT_TYPES:
        return float(stored)  # type: ignore[arg-type]
    if t in INT_TYPES:
        return int(stored)  # type: ignore[call-overload]
    if t == "anytype":
        return orjson.loads(str(stored))
    return stored
