"""Read positions: from where to ask Salesforce for changes, and which rows are new.

``SystemModstamp`` is not written in commit order: a transaction that commits late carries
a stamp older than rows already read. So a read asks for everything at or after the
watermark minus a lookback window, and drops the rows it has already taken, recognised by
``Id@SystemModstamp#digest`` (a row changed again is taken again). Salesforce keeps
``SystemModstamp`` to the whole second, so a row can change twice within one second and keep
its stamp: the digest of the row's values tells the second version from the first. The store
keeps those keys, for the rows inside the lookback window only, in ``Watermark.ids_at``.
Pure functions over plain values; the cycle commits the result in the same transaction as
the data it covers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sync.store.records import Watermark


def parse_stamp(value: str) -> dt.datetime:
    """A Salesforce datetime (``2024-01-31T12:00:00.000+0000``) as an aware datetime."""
    text = value.replace("Z", "+0000")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def soql_stamp(value: dt.datetime) -> str:
    """A datetime literal for SOQL (UTC, ``Z``)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_from(mark: Watermark | None, lookback: dt.timedelta) -> dt.datetime | None:
    """The lower bound of the next read, or ``None`` for a first, full read."""
    return None if mark is None else mark.systemmodstamp - lookback


def row_key(record: Mapping[str, Any]) -> str:
    """``Id@SystemModstamp#digest``: a row's identity, stamp and the values read."""
    values = {k: v for k, v in record.items() if k != "attributes"}
    canon = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(canon.encode()).hexdigest()[:12]
    return f"{record['Id']}@{record['SystemModstamp']}#{digest}"


def _stamp_of(key: str) -> dt.datetime:
    return parse_stamp(key.rsplit("@", 1)[1].partition("#")[0])


def unseen(records: Iterable[Mapping[str, Any]], mark: Watermark | None) -> list[Mapping[str, Any]]:
    """The rows not taken by an earlier read (first occurrence of each key, in order)."""
    seen = set(mark.ids_at) if mark is not None else set()
    out = []
    for record in records:
        key = row_key(record)
        if key not in seen:
            seen.add(key)
            out.append(record)
    return out


def advance(
    mark: Watermark | None,
    records: Iterable[Mapping[str, Any]],
    lookback: dt.timedelta,
    polled_at: dt.datetime | None = None,
) -> Watermark | None:
    """The watermark after taking ``records`` (all rows read this time, new or not).

    ``polled_at`` is Salesforce's time of the poll: the read position moves to it (or to the
    newest row, should a stamp be later), so the next read starts a lookback before the poll,
    not before the last change, and a quiet org's poll never re-reads an old burst. Without
    it, the position is the newest row read. Only rows inside the lookback window before the
    new position are remembered as taken.
    """
    stamps: dict[str, dt.datetime] = {}
    if mark is not None:
        for key in mark.ids_at:
            stamps[key] = _stamp_of(key)
    for record in records:
        stamps[row_key(record)] = parse_stamp(str(record["SystemModstamp"]))
    candidates = list(stamps.values())
    if mark is not None:
        candidates.append(mark.systemmodstamp)
    if polled_at is not None:
        candidates.append(polled_at.astimezone(dt.UTC))
    if not stamps and polled_at is None:
        return mark
    position = max(candidates)
    floor = position - lookback
    keep = frozenset(k for k, s in stamps.items() if s >= floor)
    return Watermark(systemmodstamp=position, ids_at=keep)
