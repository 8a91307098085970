"""Salesforce record Ids: 15-character keys, the 18-character case-safe form, key prefixes.

Clients compare, store and validate Ids (the connector checks the checksum, reports group
by key prefix), so the local org mints them exactly as Salesforce shapes them: a 3-character
key prefix naming the object, 12 base-62 characters, and a 3-character suffix that encodes
which of the first 15 characters are upper case.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase  # in ASCII order
_CHECKSUM_CHARS = string.ascii_uppercase + "012345"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
# Two characters that name the pod in real Ids; a constant keeps generated Ids believable.
POD = "8d"
_SERIAL_WIDTH = 15 - 3 - len(POD)


# each character → "1" when upper case: a 5-character chunk read backwards is then the
# binary number of its upper-case positions (done in C, as minting Ids is a hot path)
_UPPER_BITS = str.maketrans({ch: "1" if ch in string.ascii_uppercase else "0" for ch in BASE62})


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character Id."""
    bits = id15.translate(_UPPER_BITS)
    return (_CHECKSUM_CHARS[int(bits[4::-1], 2)] + _CHECKSUM_CHARS[int(bits[9:4:-1], 2)]
            + _CHECKSUM_CHARS[int(bits[14:9:-1], 2)])


@lru_cache(maxsize=65536)
def to18(id15: str) -> str:
    """The 18-character form of a 15-character Id."""
    return id15 + checksum(id15)


def make_id(prefix: str, serial: int) -> str:
    """The 18-character Id of the ``serial``-th record minted under ``prefix``.

    The serial is written in base 62 with digits in ASCII order, so Ids of one object sort
    (as text) in the order they were minted. (Every write mints one, history rows too, so
    this works two base-62 digits at a time and remembers the checksum of the fixed head.)
    """
    if not 0 <= serial < _SERIAL_LIMIT:
        raise ValueError(f"serial {serial} does not fit in an Id")
    high, low = divmod(serial, _PAIR_POWER_2)  # 4 low digits, 6 high ones
    head = _head(prefix, high)
    tail = _PAIRS[low // 3844] + _PAIRS[low % 3844]
    id15 = head[0] + tail
    return id15 + head[1] + _CHECKSUM_CHARS[int(id15[10:].translate(_UPPER_BITS)[::-1], 2)]


_PAIRS = [a + b for a in BASE62 for b in BASE62]
_PAIR_POWER_2 = 62 ** 4
_SERIAL_LIMIT = 62 ** _SERIAL_WIDTH


@lru_cache(maxsize=4096)
def _head(prefix: str, high: int) -> tuple[str, str]:
    """The first 11 characters of an Id (prefix, pod, 6 high serial digits) and the
    checksum characters of its first two 5-character chunks."""
    digits = []
    n = high
    while n:
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    text = prefix + POD + "".join(reversed(digits)).rjust(_SERIAL_WIDTH - 4, "0")
    return text, checksum(text + "0000")[:2]


def serial_of(record_id: str) -> int:
    """The serial ``make_id`` encoded into ``record_id`` (inverse of ``make_id``)."""
    n = 0
    for ch in record_id[3 + len(POD):15]:
        n = n * 62 + BASE62.index(ch)
    return n


def normalize(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character Id, or None when it is not an Id.

    An 18-character Id is matched on its first 15 characters (Salesforce ignores a suffix
    that disagrees with the case of the key), and answered with the right suffix.
    """
    if not isinstance(value, str) or not _ID_SHAPE.match(value):
        return None
    return to18(value[:15])


def looks_like_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_SHAPE.match(value))
