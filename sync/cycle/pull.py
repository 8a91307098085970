"""Pull: what changed in Salesforce since the last cycle.

One Composite request (plus pages) reads the Opportunities, plans and milestones whose
``SystemModstamp`` is at or after the watermark minus the lookback, via ``queryAll`` so
deletions arrive, ordered by ``(SystemModstamp, Id)``, and the contact roles changed since
their own mark in the same request (four queries of the five one request may hold); a first
read takes every contact role of the org that way. Rows last modified by mapsync's own user are
left out: they are the echo of its own writes, and leaving them out is what lets a cycle with
nothing changed cost one call. Rows already taken by an earlier read are dropped by
``Id@SystemModstamp`` (``sync.cycle.watermark``). The read position then moves to Salesforce's
time of the poll, so an idle poll after a burst of changes reads nothing again and costs one
call. The hand-off is :class:`Pulled`: the new rows, the Opportunities they touch, and the
watermarks to commit once those are written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.salesforce.soql import quote
from sync.cycle.sobjects import (
    CONTACT_ROLE,
    CONTACT_ROLE_FIELDS,
    FIELDS,
    OPPORTUNITY,
    SYNCED_OBJECTS,
    opportunity_id_of,
)
from sync.cycle.watermark import advance, read_from, soql_stamp, unseen
from sync.store.records import Watermark

Rows = dict[str, list[dict[str, Any]]]
Roles = dict[str, list[tuple[str, str]]]  # Opportunity Id -> [(role, contact Id)]


class Reader(Protocol):
    """What pull needs of the Salesforce connector."""

    @property
    def server_time(self) -> dt.datetime | None:
        """Salesforce's clock at its last response (the HTTP ``Date`` header)."""

    def composite_query(self, soqls: Sequence[str], *,
                        include_deleted: bool = True) -> list[list[dict[str, Any]]]: ...


def changes_soql(sobject: str, since: dt.datetime | None, me: str | None,
                 fields: Sequence[str] | None = None) -> str:
    """The query for one object's changes since ``since`` (all rows when ``None``)."""
    where = []
    if since is not None:
        where.append(f"SystemModstamp >= {soql_stamp(since)}")
    if me:
        where.append(f"LastModifiedById != {quote(me)}")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"SELECT {', '.join(fields or FIELDS[sobject])} FROM {sobject}{clause} "
            "ORDER BY SystemModstamp, Id")


ROLE_CHANGE_FIELDS = ("Id", "SystemModstamp", "LastModifiedById", *CONTACT_ROLE_FIELDS)


def role_changes_soql(since: dt.datetime | None, me: str | None) -> str:
    """Contact roles changed since ``since`` (every role when ``None``): a Champion added
    after the plan exists touches its Opportunity, so the plan's empty owners get filled."""
    return changes_soql(CONTACT_ROLE, since, me, ROLE_CHANGE_FIELDS)


@dataclass
class Pulled:
    """What a pull hands on: new rows, the Opportunities they touch, the next watermarks.

    ``roles`` holds every contact role of the org on a first read (``None`` otherwise): when
    every Opportunity is new, one paged query is cheaper than asking by Opportunity Id.
    """

    rows: Rows = field(default_factory=dict)
    touched: list[str] = field(default_factory=list)
    marks: dict[str, Watermark | None] = field(default_factory=dict)
    roles: Roles | None = None
    first_read: bool = False

    def counts(self) -> dict[str, int]:
        return {obj: len(rows) for obj, rows in self.rows.items()}


def read(reader: Reader, marks: Mapping[str, Watermark | None], lookback: dt.timedelta,
         me: str | None, extra: Iterable[str] = ()) -> Pulled:
    """Read the changes since ``marks``; ``extra`` Opportunities are touched as well."""
    soqls = [changes_soql(sobject, read_from(marks.get(sobject), lookback), me)
             for sobject in SYNCED_OBJECTS]
    first_read = marks.get(OPPORTUNITY) is None
    # Roles are read from their own mark; an org synced before roles were watched starts
    # them where its Opportunities are (not every role of the org again).
    role_mark = marks.get(CONTACT_ROLE) or marks.get(OPPORTUNITY)
    soqls.append(role_changes_soql(read_from(role_mark, lookback), me))
    results = reader.composite_query(soqls, include_deleted=True)
    read_rows = dict(zip(SYNCED_OBJECTS, results[:len(SYNCED_OBJECTS)], strict=True))
    pulled = Pulled(first_read=first_read)
    pulled.rows = {obj: [dict(r) for r in unseen(read_rows[obj], marks.get(obj))]
                   for obj in SYNCED_OBJECTS}
    touched: dict[str, None] = {}
    for obj in SYNCED_OBJECTS:
        for row in pulled.rows[obj]:
            opp = opportunity_id_of(obj, row)
            if opp:
                touched[opp] = None
    role_rows = [dict(r) for r in unseen(results[-1], role_mark)]
    touched.update(dict.fromkeys(str(r["OpportunityId"]) for r in role_rows
                                 if r.get("OpportunityId")))
    touched.update(dict.fromkeys(extra))
    pulled.touched = list(touched)
    polled_at = reader.server_time
    pulled.marks = {obj: advance(marks.get(obj), read_rows[obj], lookback, polled_at)
                    for obj in SYNCED_OBJECTS}
    pulled.marks[CONTACT_ROLE] = advance(role_mark, results[-1], lookback, polled_at)
    if first_read:
        pulled.roles = roles_by_opportunity(r for r in results[-1] if not r.get("IsDeleted"))
    return pulled


def roles_by_opportunity(rows: Iterable[Mapping[str, Any]]) -> Roles:
    """Contact roles as ``{Opportunity Id: [(role, contact Id), ...]}``, in row order."""
    roles: Roles = defaultdict(list)
    for row in rows:
        if row.get("ContactId"):
            roles[str(row["OpportunityId"])].append((str(row.get("Role") or ""),
                                                     str(row["ContactId"])))
    return dict(roles)
