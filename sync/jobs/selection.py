"""Which Opportunities a backfill or reconcile covers, read in a stable, resumable order.

RevOps choose a backfill's scope with options (a ``CreatedDate`` range, stages, Opportunity
types, templates), never with raw SOQL: the filter here turns them into one query, quoting
every value. Rows are read ordered by ``(CreatedDate, Id)``, a total order that never changes
under a running backfill, so a cursor ``(CreatedDate, Id)`` of the last committed row says
exactly where to resume. Large selections go through a Bulk API 2.0 query job, which returns
rows in no particular order and is sent without ORDER BY (Salesforce advises against it: it
stops the job being split into parallel chunks); its rows are put in order here, through a
temporary file, so the org is never held in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from connectors.salesforce.soql import quote
from sync.cycle.sobjects import OPPORTUNITY_FIELDS
from sync.cycle.watermark import parse_stamp, soql_stamp

SELECT_FIELDS = (*OPPORTUNITY_FIELDS, "CreatedDate")
_BOOLEAN_FIELDS = frozenset({"IsDeleted"})
_NUMBER_FIELDS = frozenset({"Amount", "MAP_Percent_Complete__c", "MAP_Days_Slipped__c"})


class OpportunityReader(Protocol):
    """What a selection needs of the Salesforce connector."""

    def count(self, soql: str) -> int: ...

    def query(self, soql: str, batch_size: int = ...) -> Iterator[dict[str, Any]]: ...

    def bulk_query(self, soql: str, *, include_deleted: bool = ...,
                   max_records: int = ...) -> Iterator[dict[str, str | None]]: ...


@dataclass(frozen=True)
class Cursor:
    """The last row a batch committed: its ``CreatedDate`` and Id."""

    created: dt.datetime
    id: str

    def encode(self) -> str:
        return f"{self.created.isoformat()}|{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        stamp, _, record_id = text.partition("|")
        return cls(dt.datetime.fromisoformat(stamp), record_id)

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Cursor:
        return cls(parse_stamp(str(row["CreatedDate"])), str(row["Id"]))

    def is_after(self, other: Cursor | None) -> bool:
        return other is None or (self.created, self.id) > (other.created, other.id)


@dataclass(frozen=True)
class Selection:
    """A backfill's scope, as RevOps give it on the command line."""

    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    stages: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()

    def parameters(self) -> dict[str, Any]:
        """Plain data, stored with the checkpoint and compared on ``--resume``."""
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "stages": sorted(self.stages), "types": sorted(self.types),
                "templates": sorted(self.templates)}

    @classmethod
    def from_parameters(cls, params: Mapping[str, Any]) -> Selection:
        def day(value: Any) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None
        return cls(day(params.get("since")), day(params.get("until")),
                   tuple(params.get("stages") or ()), tuple(params.get("types") or ()),
                   tuple(params.get("templates") or ()))

    def key(self, org_id: str, recreate_deleted: bool) -> str:
        """The backfill id: the same scope on the same org resumes the same checkpoint."""
        text = json.dumps({"org": org_id, "recreate_deleted": recreate_deleted,
                           **self.parameters()}, sort_keys=True)
        return "backfill-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def where(self, after: Cursor | None = None) -> str:
        """The SOQL condition; ``after`` narrows to rows from the cursor's second on (rows
        of that same second already taken are dropped by :func:`rows_after`)."""
        terms = []
        if self.since is not None:
            terms.append(f"CreatedDate >= {_midnight(self.since)}")
        if self.until is not None:
            terms.append(f"CreatedDate < {_midnight(self.until + dt.timedelta(days=1))}")
        if after is not None:
            terms.append(f"CreatedDate >= {soql_stamp(after.created)}")
        if self.stages:
            terms.append(f"StageName IN {quote(list(self.stages))}")
        if self.types:
            terms.append(f"Type IN {quote(list(self.types))}")
        return f" WHERE {' AND '.join(terms)}" if terms else ""

    def soql(self, after: Cursor | None = None, ordered: bool = True) -> str:
        """The query; ``ordered=False`` leaves out ORDER BY (for a Bulk query job)."""
        text = f"SELECT {', '.join(SELECT_FIELDS)} FROM Opportunity{self.where(after)}"
        return text + " ORDER BY CreatedDate, Id" if ordered else text

    def count_soql(self, after: Cursor | None = None) -> str:
        return f"SELECT COUNT() FROM Opportunity{self.where(after)}"


def _midnight(day: dt.date) -> str:
    return soql_stamp(dt.datetime.combine(day, dt.time(), dt.UTC))


def typed(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Bulk CSV row shaped like a REST row (booleans and numbers, empty cells as null)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str):
            if key in _BOOLEAN_FIELDS:
                out[key] = value.strip().lower() == "true"
                continue
            if key in _NUMBER_FIELDS:
                out[key] = float(value) if value.strip() else None
                continue
            if value == "":
                out[key] = None
                continue
        out[key] = value
    return out


def rows_after(rows: Iterator[Mapping[str, Any]], cursor: Cursor | None
               ) -> Iterator[dict[str, Any]]:
    """The rows strictly after ``cursor`` in ``(CreatedDate, Id)`` order."""
    for row in rows:
        if Cursor.of(row).is_after(cursor):
            yield dict(row)


def read(reader: OpportunityReader, selection: Selection, after: Cursor | None, *,
         use_bulk: bool) -> Iterator[dict[str, Any]]:
    """The selected Opportunities after ``after``, streamed in ``(CreatedDate, Id)`` order."""
    if use_bulk:
        rows: Iterator[Mapping[str, Any]] = in_order(
            typed(r) for r in reader.bulk_query(selection.soql(after, ordered=False)))
    else:
        rows = reader.query(selection.soql(after))
    return rows_after(rows, after)


def in_order(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """``rows`` sorted by ``(CreatedDate, Id)``, spilled to a temporary SQLite file so that
    memory stays flat however many rows a Bulk query returned."""
    with tempfile.TemporaryDirectory(prefix="mapsync-sort-") as tmp:
        conn = sqlite3.connect(str(Path(tmp) / "rows.db"))
        try:
            conn.execute("CREATE TABLE r (created TEXT, id TEXT, row TEXT)")
            batch: list[tuple[str, str, str]] = []
            for row in rows:
                key = Cursor.of(row)
                batch.append((key.created.strftime("%Y-%m-%dT%H:%M:%S.%f"), key.id,
                              json.dumps(row, default=str)))
                if len(batch) >= 5_000:
                    conn.executemany("INSERT INTO r VALUES (?, ?, ?)", batch)
                    batch.clear()
            conn.executemany("INSERT INTO r VALUES (?, ?, ?)", batch)
            for (text,) in conn.execute("SELECT row FROM r ORDER BY created, id"):
                yield json.loads(text)
        finally:
            conn.close()


def ids_soql(ids: Sequence[str]) -> str:
    """The selected fields of the given Opportunities (for dead-letter retries)."""
    return f"SELECT {', '.join(SELECT_FIELDS)} FROM Opportunity WHERE Id IN {quote(list(ids))}"
