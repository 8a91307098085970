"""Canonical JSON: one text, and so one hash, for every set of equal field values.

The shadow copy keeps what mapsync last wrote to each record and compares it, by hash, with
what the planner wants now. That only works if equal values always serialise to equal text,
whatever Python type produced them and on whichever run: keys are sorted, there is no
whitespace, dates are ISO text as Salesforce sends them, and numbers are written in one form
(``10``, ``10.0`` and ``Decimal("10.00")`` all become ``10``). Values come back from JSON in
that canonical form (integral numbers as ``int``, others as exact ``Decimal``), so callers
compare ``canonical_fields(desired)`` with stored fields.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (mappings, sequences, scalars, dates, decimals)."""
    try:
        plain = _plain(value)
    except _NeedsExactDigits:
        return canonical_json_exact(value)
    return _ENCODER.encode(plain)


# the JSON string of text, as the encoder writes it (``ensure_ascii=False``)
encode_basestring = json.encoder.encode_basestring
# one encoder for every call: ``json.dumps`` with options builds a new one each time, which
# cost as much as encoding a short value (a digest per milestone name, millions of them)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)


def canonical_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` as they read back from the store (dates as ISO text, numbers normalised)."""
    return decode(canonical_json(dict(fields)))


def decode(text: str) -> Any:
    """Read canonical JSON back; non-integral numbers come back as exact ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


def fields_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``fields``; stable across runs and machines."""
    return text_hash(canonical_json(dict(fields)))


def text_hash(canonical_text: str) -> str:
    """SHA-256 (hex) of text already in canonical form."""
    return hashlib.sha256(canonical_text.encode("utf-8")).hexdigest()


def format_datetime(value: datetime) -> str:
    """A timezone-aware datetime in Salesforce's wire form, in UTC, to the millisecond."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no timezone; use UTC")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def canonical_json_exact(value: Any) -> str:
    """The same text as :func:`canonical_json`, built digit by digit (the reference, and the
    path for numbers with more significant digits than a float holds)."""
    return "".join(_encode(value))


class _NeedsExactDigits(Exception):
    """A number whose canonical digits a float cannot carry: take the exact (slower) path."""


def _plain(value: Any) -> Any:
    """``value`` with every non-JSON type replaced by its canonical JSON-native equivalent.

    This is the fast path (the C encoder does the rest); it must produce exactly the text of
    :func:`canonical_json_exact`, which a property test checks.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, Mapping):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = _number(value)
        if "." not in text:
            return int(text)
        as_float = float(text)
        if repr(as_float) != text:
            raise _NeedsExactDigits
        return as_float
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_plain(v) for v in sorted(value)]
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON: {value!r}")


def _encode(value: Any) -> list[str]:
    if value is None or isinstance(value, bool | str):
        return [json.dumps(value, ensure_ascii=False)]
    if isinstance(value, int | float | Decimal):
        return [_number(value)]
    if isinstance(value, datetime):
        return [json.dumps(format_datetime(value))]
    if isinstance(value, date):
        return [json.dumps(value.isoformat())]
    if isinstance(value, Mapping):
        out = ["{"]
        items = sorted(value.items(), key=lambda kv: _key(kv[0]))
        for i, (k, v) in enumerate(items):
            if i:
                out.append(",")
            out.append(json.dumps(_key(k), ensure_ascii=False))
            out.append(":")
            out.extend(_encode(v))
        out.append("}")
        return out
    if isinstance(value, list | tuple):
        out = ["["]
        for i, v in enumerate(value):
            if i:
                out.append(",")
            out.extend(_encode(v))
        out.append("]")
        return out
    if isinstance(value, set | frozenset):
        return _encode(sorted(value))
    raise TypeError(f"cannot store a {type(value).__name__} as JSON: {value!r}")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys must be text, not {type(key).__name__}: {key!r}")
    return key


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot store {value!r} as JSON")
        value = Decimal(repr(value))
    if not value.is_finite():
        raise ValueError(f"cannot store {value!r} as JSON")
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return str(int(normal))
    return format(normal, "f")
