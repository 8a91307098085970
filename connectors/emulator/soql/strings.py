"""SOQL string literals: the escapes Salesforce accepts, decoded for equality or for LIKE.

Salesforce accepts ``\\n \\r \\t \\b \\f \\" \\' \\\\`` (either case) and ``\\uXXXX``
everywhere, and ``\\%`` / ``\\_`` only inside a LIKE pattern; any other backslash sequence
makes the query malformed. (``\\f`` is in Salesforce's list of escapes and simple-salesforce
writes it, though the ``@salesforce/soql-common`` parser refuses it.) A LIKE pattern is turned
into an SQLite pattern whose escape character is ``\\``, so ``\\%`` stays a literal percent
sign and a decoded backslash is escaped in turn.
"""

from __future__ import annotations

import re

_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


class BadEscape(ValueError):
    """The literal holds an escape Salesforce rejects; ``sequence`` is the offending text."""

    def __init__(self, sequence: str) -> None:
        super().__init__(sequence)
        self.sequence = sequence


def decode(body: str, *, like: bool = False) -> str:
    """Decode the text between the quotes; for ``like`` return an SQLite LIKE pattern."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < n else ""
        low = nxt.lower()
        if low in _SIMPLE:
            char = _SIMPLE[low]
            out.append("\\\\" if like and char == "\\" else char)
            i += 2
        elif low == "u" and _HEX4.fullmatch(body[i + 2:i + 6]):
            char = chr(int(body[i + 2:i + 6], 16))
            out.append("\\" + char if like and char in "%_\\" else char)
            i += 6
        elif like and nxt in "%_":
            out.append("\\" + nxt)
            i += 2
        else:
            raise BadEscape("\\" + nxt)
    return "".join(out)


def like_pattern(body: str) -> str:
    """An SQLite LIKE pattern (ESCAPE '\\') equivalent to the SOQL LIKE literal ``body``."""
    if "\\" not in body:
        return body
    return decode(body, like=True)
