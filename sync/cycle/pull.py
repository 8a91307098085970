"""Pull: what changed in Salesforce since the last cycle.

One Composite request (plus pages) reads the Opportunities, plans and milestones whose
``SystemModstamp`` is at or after the watermark minus the lookback, via ``queryAll`` so
deletions arrive, ordered by ``(SystemModstamp, Id)``; a first read also takes every contact
role of the org in the same request. Rows last modified by mapsync's own user are left out:
they are the echo of its own writes, and leaving them out is what lets a cycle with nothing
changed cost one call. That alone would hide a rep's change that a write of mapsync's
landed on a moment later (the record's last modifier is then mapsync), so the same request
reads Salesforce's history too: the milestone field history of the fields reps pin and the
stage history (stage, close date, amount), written since the read position by anyone but
mapsync. Either touches its Opportunity: five queries, still one call. Rows already taken by
an earlier read are dropped by ``Id@SystemModstamp`` (``sync.cycle.watermark``). The read
position then moves to Salesforce's time of the poll, so an idle poll after a burst of
changes reads nothing again and costs one call. The hand-off is :class:`Pulled`: the new
rows, the Opportunities they touch, and the watermarks to commit once those are written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.salesforce.soql import quote
from sync.cycle import updated
from sync.cycle.sobjects import (
    CONTACT_ROLE,
    CONTACT_ROLE_FIELDS,
    FIELDS,
    HISTORY_FIELDS,
    HISTORY_OBJECTS,
    MILESTONE_HISTORY,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    OPPORTUNITY_HISTORY,
    POLLED_BY_UPDATES,
    SYNCED_OBJECTS,
    opportunity_id_of,
)
from sync.cycle.watermark import advance, parse_stamp, read_from, soql_stamp, unseen
from sync.planner.model import REP_PINNABLE_MILESTONE_FIELDS
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

    def composite_read(self, soqls: Sequence[str], resources: Sequence[str], *,
                       include_deleted: bool = True,
                       ) -> tuple[list[list[dict[str, Any]]], list[updated.Answer]]: ...


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


def history_soql(sobject: str, since: dt.datetime | None, me: str | None) -> str:
    """The query for the history rows written since ``since`` by anyone but mapsync (on a
    first read, since yesterday: enough to know the rows of the lookback window as taken)."""
    where = [f"CreatedDate >= {'YESTERDAY' if since is None else soql_stamp(since)}"]
    if me:
        where.append(f"CreatedById != {quote(me)}")
    if sobject == MILESTONE_HISTORY:  # the fields a rep pins: the rest cannot be masked
        where.append(f"Field IN {quote(sorted(REP_PINNABLE_MILESTONE_FIELDS))}")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"SELECT {', '.join(HISTORY_FIELDS[sobject])} FROM {sobject}{clause} "
            "ORDER BY CreatedDate, Id")


ROLES_SOQL = (f"SELECT {', '.join(CONTACT_ROLE_FIELDS)} FROM {CONTACT_ROLE} "
              "ORDER BY OpportunityId, IsPrimary DESC, Id")


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
         me: str | None, extra: Iterable[str] = (), now: dt.datetime | None = None) -> Pulled:
    """Read the changes since ``marks``; ``extra`` Opportunities are touched as well.
    ``now``: the time the windows of Get Updated end at (Salesforce's last known time, else
    the local clock, when not given)."""
    soqls = [changes_soql(sobject, read_from(marks.get(sobject), lookback), me)
             for sobject in SYNCED_OBJECTS]
    first_read = marks.get(OPPORTUNITY) is None
    # Later reads also read who else changed what, so a rep's change that a write of
    # mapsync's masked is not lost. A first read takes every record as it is (and every
    # contact role, in the fifth query); it reads stage history too, so the next read knows
    # those rows as taken.
    extra_objects = (OPPORTUNITY_HISTORY,) if first_read else HISTORY_OBJECTS
    for sobject in extra_objects:
        since = read_from(marks.get(sobject) or marks.get(OPPORTUNITY), lookback)
        soqls.append(history_soql(sobject, since, me))
    if first_read:
        soqls.append(ROLES_SOQL)
    prepared = updated.prepare(
        tuple(POLLED_BY_UPDATES), marks,
        now or reader.server_time or dt.datetime.now(dt.UTC),
        since=read_from(marks.get(OPPORTUNITY), lookback) if not first_read else None,
        lookback=lookback)
    results, answers = reader.composite_read(soqls, prepared.resources(), include_deleted=True)
    polled_at = reader.server_time
    objects = (*SYNCED_OBJECTS, *extra_objects)
    read_rows = dict(zip(objects, results[:len(objects)], strict=True))
    for sobject in extra_objects:  # history rows are stamped by their creation
        for row in read_rows[sobject]:
            row["SystemModstamp"] = row["CreatedDate"]
    pulled = Pulled(first_read=first_read)
    pulled.rows = {obj: [dict(r) for r in unseen(read_rows[obj], marks.get(obj))]
                   for obj in objects}
    pulled.marks = {obj: advance(marks.get(obj), read_rows[obj], lookback, polled_at)
                    for obj in objects}
    for obj in extra_objects:  # a change the record's own row already showed is not news
        taken = _taken_at(pulled.marks.get(RECORDS_OF[obj]))
        pulled.rows[obj] = [r for r in pulled.rows[obj]
                            if (seen := taken.get(str(r[HISTORY_PARENT[obj]]))) is None
                            or seen <= parse_stamp(str(r["CreatedDate"]))]
    changes = updated.collect(reader, prepared, answers, marks, POLLED_BY_UPDATES, me,
                              polled_at)
    pulled.rows.update(changes.rows)
    pulled.marks.update(changes.marks)
    touched: dict[str, None] = {}
    for obj in pulled.rows:
        for row in pulled.rows[obj]:
            opp = opportunity_id_of(obj, row)
            if opp:
                touched[opp] = None
    touched.update(dict.fromkeys(extra))
    pulled.touched = list(touched)
    if first_read:
        pulled.roles = roles_by_opportunity(r for r in results[-1] if not r.get("IsDeleted"))
    return pulled


RECORDS_OF = {MILESTONE_HISTORY: MILESTONE_OBJECT, OPPORTUNITY_HISTORY: OPPORTUNITY}
HISTORY_PARENT = {MILESTONE_HISTORY: "ParentId", OPPORTUNITY_HISTORY: "OpportunityId"}


def _taken_at(mark: Watermark | None) -> dict[str, dt.datetime]:
    """The newest stamp of each record whose row a read has taken (inside the window): a
    history row older than it records a change that row already showed. One of the same
    second cannot be ordered against it (Salesforce stamps whole seconds): it counts as new."""
    taken: dict[str, dt.datetime] = {}
    for key in mark.ids_at if mark is not None else ():
        record_id, _, rest = key.partition("@")
        stamp = parse_stamp(rest.split("#", 1)[0])
        if record_id not in taken or stamp > taken[record_id]:
            taken[record_id] = stamp
    return taken


def roles_by_opportunity(rows: Iterable[Mapping[str, Any]]) -> Roles:
    """Contact roles as ``{Opportunity Id: [(role, contact Id), ...]}``, in row order."""
    roles: Roles = defaultdict(list)
    for row in rows:
        if row.get("ContactId"):
            roles[str(row["OpportunityId"])].append((str(row.get("Role") or ""),
                                                     str(row["ContactId"])))
    return dict(roles)
