"""The shadow's compact forms: a value kept only for equality, Ids in 12 bytes, field values
in a few bytes each.

A store of a million Opportunities holds about eleven million shadows, so every byte of a
shadow row counts eleven million times (issue 14: ≤ 250 bytes per synced record, indexes
included). Three forms carry that:

- :class:`Digest`: 8 bytes of BLAKE2b over a value's canonical JSON, for a field whose last
  written value is only ever compared (a rep's edit is "Salesforce no longer holds what
  mapsync wrote"). It equals every value whose digest it is, so callers compare it with
  ``==`` as they would the value; 2⁻⁶⁴ is the chance a different value passes for it.
- Salesforce Ids: an 18-character Id is its 15 case-sensitive base-62 characters (the last
  three are a checksum of their case, rebuilt on reading), packed into 12 bytes in Id order.
  An external id made of an Id and a suffix (a milestone's ``<Opportunity Id>:<key>``) keeps
  its suffix as text.
- Field values: a tag byte, then the value: a date (ISO text, as dates are kept) in 3
  bytes, a small integer in 2, a digest in 8, text with a 1-byte length. Field names are not
  stored per row: the sorted names of a record form a *layout*, stored once (its id, the first
  4 bytes of the names' SHA-256, leads each row's value bytes).

The encoding is a storage format: changing it needs a migration.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sync.store.canonical import canonical_json, decode, encode_basestring

DIGEST_BYTES = 8
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(_ALPHABET)}
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_RAW, _PACKED = 0, 1
_NONE, _DIGEST, _DATE, _TEXT, _TRUE, _FALSE, _SMALL, _JSON = range(8)


class Digest:
    """A value kept as its 8-byte digest: equal to the value itself, and to its digest."""

    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        if len(value) != DIGEST_BYTES:
            raise ValueError(f"a digest has {DIGEST_BYTES} bytes, not {len(value)}")
        self.value = value

    @classmethod
    def of(cls, value: Any) -> Digest:
        """The digest of ``value`` (of its canonical JSON); a digest is its own."""
        if type(value) is str:  # most digests: canonical JSON of text is its JSON string
            text = encode_basestring(value).encode("utf-8")
        elif isinstance(value, Digest):
            return value
        else:
            text = canonical_json(value).encode("utf-8")
        return cls(hashlib.blake2b(text, digest_size=DIGEST_BYTES).digest())

    def __eq__(self, other: object) -> bool:
        try:
            return self.value == Digest.of(other).value
        except TypeError:  # not a value the store could have kept: not this one
            return False

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Digest({self.value.hex()})"


_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ID = re.compile(r"[0-9A-Za-z]{18}")


# each character as "1" (upper case) or "0"; then each run of five such flags names its
# checksum character (the first character is the lowest bit)
_CASE_FLAGS = str.maketrans({c: "1" if c in _UPPER else "0" for c in _ALPHABET})
_SUFFIX_OF = {"".join("1" if bits >> i & 1 else "0" for i in range(5)): _SUFFIX[bits]
              for bits in range(32)}


def _checksum(id15: str) -> str:
    flags = id15.translate(_CASE_FLAGS)
    try:
        return _SUFFIX_OF[flags[0:5]] + _SUFFIX_OF[flags[5:10]] + _SUFFIX_OF[flags[10:15]]
    except KeyError:  # a character that is not base 62: the checksum of its case alone
        return "".join(_SUFFIX[sum(1 << i for i, c in enumerate(id15[start:start + 5])
                                   if c in _UPPER)] for start in (0, 5, 10))


def _is_id(text: str) -> bool:
    return _ID.match(text) is not None and _checksum(text[:15]) == text[15:18]


def pack_key(text: str) -> bytes:
    """An Id, or an external id that starts with one, in its compact form (see module)."""
    if _is_id(text):
        number = 0
        digit = _DIGIT
        for c in text[:15]:
            number = number * 62 + digit[c]
        return bytes([_PACKED]) + number.to_bytes(12, "big") + text[18:].encode("utf-8")
    return bytes([_RAW]) + text.encode("utf-8")


def unpack_key(data: bytes) -> str:
    """The text :func:`pack_key` packed."""
    if data[0] == _RAW:
        return data[1:].decode("utf-8")
    number = int.from_bytes(data[1:13], "big")
    digits = []
    for _ in range(15):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    id15 = "".join(reversed(digits))
    return id15 + _checksum(id15) + data[13:].decode("utf-8")


def layout_id(names: Sequence[str]) -> int:
    """The id of a layout (sorted field names): 4 bytes of SHA-256, signed, as an integer."""
    raw = hashlib.sha256(json.dumps(list(names)).encode("utf-8")).digest()[:4]
    return int.from_bytes(raw, "big", signed=True)


def encode(fields: Mapping[str, Any]) -> tuple[tuple[str, ...], bytes]:
    """The layout of ``fields`` and their value bytes (led by the layout's id)."""
    names = tuple(sorted(fields))
    lead = _LEADS.get(names)
    if lead is None:
        lead = _LEADS[names] = struct.pack(">i", layout_id(names))
    return names, lead + b"".join([_value(fields[name]) for name in names])


_LEADS: dict[tuple[str, ...], bytes] = {}
_NONE_BYTES, _TRUE_BYTES, _FALSE_BYTES = bytes([_NONE]), bytes([_TRUE]), bytes([_FALSE])


# the bytes of short text, by text: a shadow's statuses and dates repeat across records
_SHORT_TEXT: dict[str, bytes] = {}
_SHORT, _SHORT_KEPT = 32, 4_096  # texts of up to 32 characters, 4,096 at most (< 1 MB)


def _value(value: Any) -> bytes:
    """One value's bytes; plain types on a fast path, the rest in canonical form first."""
    kind = type(value)
    if value is None:
        return _NONE_BYTES
    if kind is str:
        if len(value) > _SHORT:
            return _text(value)
        found = _SHORT_TEXT.get(value)
        if found is None:
            found = _text(value)
            if len(_SHORT_TEXT) < _SHORT_KEPT:
                _SHORT_TEXT[value] = found
        return found
    if kind is bool:
        return _TRUE_BYTES if value else _FALSE_BYTES
    if kind is int:
        if -32768 <= value <= 32767:
            return bytes([_SMALL]) + struct.pack(">h", value)
        return _json(value)
    if kind is Digest:
        return bytes([_DIGEST]) + value.value
    if kind is float and value.is_integer() and -32768 <= value <= 32767:
        return bytes([_SMALL]) + struct.pack(">h", int(value))
    plain = decode(canonical_json(value))  # dates as ISO text, numbers normalised
    if type(plain) is not type(value) or isinstance(plain, str | int):
        return _value(plain)
    return _json(plain)


def _text(value: str) -> bytes:
    """Text's bytes: an ISO date in 3, other short text after its length, long as JSON."""
    if len(value) == 10 and _is_iso_date(value):
        return bytes([_DATE]) + date.fromisoformat(value).toordinal().to_bytes(3, "big")
    raw = value.encode("utf-8")
    if len(raw) < 256:
        return bytes([_TEXT, len(raw)]) + raw
    return _json(value)


def _json(value: Any) -> bytes:
    raw = canonical_json(value).encode("utf-8")
    return bytes([_JSON]) + struct.pack(">I", len(raw)) + raw


def _is_iso_date(text: str) -> bool:
    if text[4] != "-" or text[7] != "-":
        return False
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def decode_values(names: Sequence[str], data: bytes) -> dict[str, Any]:
    """The fields :func:`encode` encoded, given their layout's names (values in canonical
    form, as :func:`sync.store.canonical.canonical_fields` gives them; digests as such)."""
    out: dict[str, Any] = {}
    at = 4
    for name in names:
        tag = data[at]
        at += 1
        if tag == _NONE:
            out[name] = None
        elif tag == _DIGEST:
            out[name] = Digest(data[at:at + DIGEST_BYTES])
            at += DIGEST_BYTES
        elif tag in (_TRUE, _FALSE):
            out[name] = tag == _TRUE
        elif tag == _SMALL:
            out[name] = struct.unpack(">h", data[at:at + 2])[0]
            at += 2
        elif tag == _DATE:
            out[name] = date.fromordinal(int.from_bytes(data[at:at + 3], "big")).isoformat()
            at += 3
        elif tag == _TEXT:
            size = data[at]
            out[name] = data[at + 1:at + 1 + size].decode("utf-8")
            at += 1 + size
        else:
            size = struct.unpack(">I", data[at:at + 4])[0]
            out[name] = decode(data[at + 4:at + 4 + size].decode("utf-8"))
            at += 4 + size
    return out


def layout_of(data: bytes) -> int:
    """The layout id that leads value bytes."""
    return int(struct.unpack(">i", data[:4])[0])
