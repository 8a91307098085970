"""Changes to objects the poll's five queries have no room for, asked in the same call.

A Composite request carries at most five queries, and the poll's five go to the plan's own
records and Salesforce's history. Salesforce's Get Updated and Get Deleted resources
(``sobjects/{Object}/updated/?start=&end=``, ``…/deleted/…``) are not queries, so they ride in
the same request at no extra call: an idle poll still costs one. Only when they answer with
Ids does the poll pay a second call, one Composite request that reads those records (deleted
ones too, ``queryAll``) by Id. A window naming more Ids than one such call reads (mapsync's
own writes of a large cycle: every Task it just wrote is named), or one Salesforce refuses
for naming over 600,000 (``EXCEEDED_ID_LIMIT``: a first cycle of a million Opportunities
writes three million Tasks), is read instead as one query of the rows changed since the
window's start by anyone but mapsync: its cost follows the reps' changes, not mapsync's
(Salesforce stamps a deletion's ``SystemModstamp`` and ``LastModifiedById`` too, so deleted
rows are in it).

Salesforce's rules, which the windows here follow: seconds of ``start`` and ``end`` are
ignored (whole minutes), ``start`` must precede ``end`` and lie within the days Salesforce
keeps (30 for updates, 15 for deletions: the shorter applies to both), and the answer's
``latestDateCovered`` is the last moment covered, earlier than ``end`` while transactions are
still open. The next window starts there, so a change committed late is still asked for; a
window not yet a minute long is not asked (the mark stays). Ids answered twice (a late
window overlaps the last one) are read again, but rows already taken, known by
``Id@SystemModstamp`` as in :mod:`sync.cycle.watermark`, are not handed on twice; rows last
modified by mapsync's own user are its echo and are dropped.

Two steps around the poll's request: :func:`prepare` gives the windows and the resources to
add to it; :func:`collect` reads the answers, fetches the changed rows and gives the next
marks (committed with the data they cover, like every watermark).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from config.batching import batched
from connectors.salesforce.errors import error_from_body, parse_error_body
from connectors.salesforce.soql import quote
from sync.cycle.watermark import parse_stamp, row_key, soql_stamp
from sync.store.records import Watermark

REACH = dt.timedelta(days=15)  # Get Deleted's reach (Get Updated's is 30 days)
IDS_PER_QUERY = 300  # as gather: well inside Salesforce's URL and SOQL length limits
QUERIES_PER_CALL = 5  # a Composite request's query subrequests
SYSTEM_FIELDS = ("Id", "IsDeleted", "SystemModstamp", "LastModifiedById")

Answer = tuple[int, Any]  # a subrequest's HTTP status and parsed body


class RowReader(Protocol):
    """What the follow-up read needs of the Salesforce connector."""

    def composite_query(self, soqls: Sequence[str], *,
                        include_deleted: bool = True) -> list[list[dict[str, Any]]]: ...


def read_fields(fields: Sequence[str]) -> tuple[str, ...]:
    """What is read of a changed record: its system fields, then ``fields``. A first read
    that takes every record of the object reads the same, so the rows it took are known by
    the same ``Id@SystemModstamp#digest`` when a later window names them again."""
    return tuple(dict.fromkeys((*SYSTEM_FIELDS, *fields)))


def minute(value: dt.datetime) -> dt.datetime:
    """``value`` to the whole minute, as Salesforce reads a window's bounds."""
    return value.astimezone(dt.UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """One object's window: from its mark (the last ``latestDateCovered``) to now."""

    sobject: str
    start: dt.datetime
    end: dt.datetime

    def resources(self) -> tuple[str, str]:
        """The Get Updated and Get Deleted paths of this window."""
        query = urlencode({"start": soql_stamp(self.start), "end": soql_stamp(self.end)})
        return (f"sobjects/{self.sobject}/updated/?{query}",
                f"sobjects/{self.sobject}/deleted/?{query}")


@dataclass(frozen=True)
class Prepared:
    """The windows of one poll; ``starting``: objects without a mark yet (a first read),
    which start from the poll's time less the lookback."""

    windows: tuple[Window, ...] = ()
    starting: tuple[str, ...] = ()
    lookback: dt.timedelta = dt.timedelta(0)

    def resources(self) -> list[str]:
        """The subrequests to add to the poll's Composite request, in order."""
        return [path for w in self.windows for path in w.resources()]


@dataclass
class Updated:
    """What the windows found: new rows per object (deleted ones with ``IsDeleted``), and
    the next marks (``None``: unchanged)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    marks: dict[str, Watermark | None] = field(default_factory=dict)


def prepare(objects: Sequence[str], marks: Mapping[str, Watermark | None], now: dt.datetime,
            *, since: dt.datetime | None, lookback: dt.timedelta) -> Prepared:
    """The windows to ask for ``objects`` at ``now``: from each object's mark, else from
    ``since`` (the records' read position: an object newly polled this way), clamped to the
    days Salesforce answers for; none for an object whose window is under a minute."""
    windows: list[Window] = []
    starting: list[str] = []
    end = minute(now)
    for sobject in objects:
        mark = marks.get(sobject)
        start = mark.systemmodstamp if mark is not None else since
        if start is None:
            starting.append(sobject)
            continue
        start = max(minute(start), minute(now - REACH) + dt.timedelta(minutes=1))
        if start < end:
            windows.append(Window(sobject, start, end))
    return Prepared(tuple(windows), tuple(starting), lookback)


def collect(reader: RowReader, prepared: Prepared, answers: Sequence[Answer],
            marks: Mapping[str, Watermark | None], fields: Mapping[str, Sequence[str]],
            me: str | None, polled_at: dt.datetime | None,
            in_full: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> Updated:
    """Read the answers to :meth:`Prepared.resources`, fetch the rows they name (one more
    call, only when some do) and give the next marks. ``fields``: what to read of each
    object (its system fields are read too). ``in_full``: every row of an object a first read
    took (read with :func:`read_fields`), so the next window's naming them again is not
    news. A resource Salesforce refused raises its error, as a refused query does."""
    out = Updated()
    wanted: dict[str, list[str]] = {}
    since: dict[str, dt.datetime] = {}  # windows read by their changes, not by Id
    covered: dict[str, dt.datetime] = {}
    for n, window in enumerate(prepared.windows):
        changed, gone = answers[2 * n], answers[2 * n + 1]
        ids: dict[str, None] = {}
        latest = window.end
        too_many = False
        for (status, body), key in ((changed, "ids"), (gone, "deletedRecords")):
            if status >= 300:
                text = json.dumps(body)
                if me and _too_many_ids(status, text):
                    too_many = True
                    continue
                raise error_from_body(status, text,
                                      f"{window.sobject} changes since {window.start}")
            for item in body.get(key) or ():
                ids[str(item if key == "ids" else item["id"])] = None
            if body.get("latestDateCovered"):
                latest = min(latest, parse_stamp(str(body["latestDateCovered"])))
        covered[window.sobject] = max(latest, window.start)
        if me and (too_many or len(ids) > IDS_PER_QUERY * QUERIES_PER_CALL):
            since[window.sobject] = window.start
        else:
            wanted[window.sobject] = list(ids)
    read = _fetch(reader, wanted, fields, since, me)
    for window in prepared.windows:
        sobject = window.sobject
        mark = marks.get(sobject)
        seen = mark.ids_at if mark is not None else frozenset()
        rows = [r for r in read.get(sobject, []) if row_key(r) not in seen]
        out.rows[sobject] = [r for r in rows if not me or r.get("LastModifiedById") != me]
        position = covered[sobject]
        keys = [*seen, *(row_key(r) for r in read.get(sobject, []))]
        taken = frozenset(k for k in keys  # rows a later window may name again
                          if parse_stamp(k.rsplit("@", 1)[1].partition("#")[0]) >= position)
        out.marks[sobject] = Watermark(position, taken)
    if polled_at is not None:
        for sobject in prepared.starting:
            out.rows.setdefault(sobject, [])
            position = minute(polled_at - prepared.lookback)
            known = frozenset(row_key(r) for r in (in_full or {}).get(sobject, ())
                              if parse_stamp(str(r["SystemModstamp"])) >= position)
            out.marks[sobject] = Watermark(position, known)
    return out


def _too_many_ids(status: int, body: str) -> bool:
    """Whether Salesforce refused a window for naming over 600,000 Ids (``EXCEEDED_ID_LIMIT``:
    the echo of a cycle that wrote millions of records); read by its changes instead."""
    return any(e.code == "EXCEEDED_ID_LIMIT" for e in parse_error_body(status, body))


def _fetch(reader: RowReader, wanted: Mapping[str, Sequence[str]],
           fields: Mapping[str, Sequence[str]], since: Mapping[str, dt.datetime],
           me: str | None) -> dict[str, list[dict[str, Any]]]:
    queries: list[tuple[str, str]] = []
    for sobject, start in since.items():
        select = ", ".join(read_fields(fields.get(sobject, ())))
        queries.append((sobject, f"SELECT {select} FROM {sobject} WHERE SystemModstamp >= "
                                 f"{soql_stamp(start)} AND LastModifiedById != {quote(me or '')} "
                                 "ORDER BY SystemModstamp, Id"))
    for sobject, ids in wanted.items():
        select = ", ".join(read_fields(fields.get(sobject, ())))
        queries += [(sobject, f"SELECT {select} FROM {sobject} WHERE Id IN {quote(list(chunk))} "
                              "ORDER BY SystemModstamp, Id")
                    for chunk in batched(ids, IDS_PER_QUERY)]
    if not queries:
        return {}
    results = reader.composite_query([q for _, q in queries], include_deleted=True)
    out: dict[str, list[dict[str, Any]]] = {}
    for (sobject, _), rows in zip(queries, results, strict=True):
        out.setdefault(sobject, []).extend(dict(r) for r in rows)
    return out
