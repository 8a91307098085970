"""A large first cycle on an org without plans: streamed, spooled, one Bulk job per object.

A first cycle (no watermarks yet) touches every Opportunity of the org. Read the way later
polls read — every row paged into memory, then planned and pushed a chunk at a time, each
chunk paying its own Bulk jobs — it holds the whole org (≈1.7 KB a row) and pays the jobs
once per chunk. When the org holds no plan yet (mapsync never wrote one: nothing to read
back) and has more Opportunities than the Bulk threshold, this path runs instead:

- one Composite call tells whether the org holds plans and contact roles and more
  Opportunities than the threshold, and reads what the marks need: the stage history of the
  lookback window (a first read takes history only to know those rows as taken), and the
  Get Updated windows of objects that already have a mark;
- the Opportunities stream from one Bulk query (a handful of calls, and one per result page)
  and are planned a chunk at a time as they arrive; each chunk's decisions go to a spool on
  disk (:mod:`sync.cycle.spool`); contact roles and team members come from one Bulk query
  each, into the spool's tables (:mod:`sync.cycle.spool_tables`), which each chunk asks for
  its own, in REST order;
- the spool is written in one Bulk job per object (:func:`sync.cycle.spooled_push.push_spool`),
  then committed batch by batch, the watermarks with the last batch only
  (:mod:`sync.cycle.first_cycle_push`).

A cycle stopped or killed before its last commit leaves the watermarks where they were. Ended
during its push, it leaves a checkpoint of its jobs: the next cycle collects their results
instead of uploading again and commits the rest (:mod:`sync.cycle.first_cycle_push`). Ended
before its spool was whole, the next cycle reads again from the start: if a plan landed
meanwhile it takes the chunked path, which reads them back; upserts by external id land on
the same records.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.batching import batched
from connectors.salesforce.soql import quote
from sync.cycle import first_cycle_push, updated
from sync.cycle.decide import Decisions, decide
from sync.cycle.gather import gather
from sync.cycle.org import Org
from sync.cycle.pull import changes_soql, history_soql
from sync.cycle.run import Run
from sync.cycle.sobjects import (
    CONTACT_ROLE,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    OPPORTUNITY_HISTORY,
    PLAN_OBJECT,
    POLLED_BY_UPDATES,
    TEAM_MEMBER,
)
from sync.cycle.spool import Spool
from sync.cycle.spool_tables import PEOPLE, PEOPLE_FIELDS
from sync.cycle.spooled_push import RunSpanningJobs
from sync.cycle.watermark import advance, parse_stamp, row_key
from sync.store.records import Watermark

MAX_OFFSET = 2_000  # Salesforce's largest SOQL OFFSET: "more than the threshold" is probed so
# a first read of rows stamped within this much of Salesforce's clock knows them as taken:
# the history window is asked from the local estimate of that clock, less this margin
CLOCK_MARGIN = dt.timedelta(minutes=5)
# Bulk query rows per result page: a page is kept on disk while its rows are read, not in
# memory (``bulk_csv.page_rows``), so its size is a trade of calls against one download's
# length (≈ 40 MB of CSV here): a call per 100,000 Opportunities, 10 at a million
PAGE_ROWS = 100_000
_BOOLEANS = frozenset({"IsDeleted", "IsPrimary"})
_NUMBERS = frozenset({"Amount", "MAP_Percent_Complete__c", "MAP_Days_Slipped__c",
                      "MAP_Buyer_On_Time_Rate__c", "MAP_Seller_On_Time_Rate__c",
                      "MAP_Days_Since_Progress__c"})


@dataclass
class FirstRead:
    """What the first read's one Composite call found."""

    large: bool
    plans: bool
    contact_roles: bool
    team_members: bool
    polled_at: dt.datetime | None
    history: list[dict[str, Any]] = field(default_factory=list)
    prepared: updated.Prepared = field(default_factory=updated.Prepared)
    answers: list[updated.Answer] = field(default_factory=list)

    @property
    def streams(self) -> bool:
        """Whether this first cycle is streamed and spooled (an org without plans, large)."""
        return self.large and not self.plans


def probe(org: Org, marks: Mapping[str, Watermark | None], me: str | None,
          now: dt.datetime) -> FirstRead:
    """One Composite call: does the org hold plans, contact roles, team members, more
    Opportunities than the Bulk threshold; the stage history of the lookback window; Get
    Updated windows."""
    reader = org.salesforce
    offset = min(reader.bulk_threshold, MAX_OFFSET)
    echo = f" WHERE LastModifiedById != {quote(me)}" if me else ""
    estimate = (reader.server_time or now) - org.lookback - CLOCK_MARGIN
    soqls = [f"SELECT Id FROM {PLAN_OBJECT} LIMIT 1",
             f"SELECT Id FROM {CONTACT_ROLE} LIMIT 1",
             f"SELECT Id FROM {OPPORTUNITY}{echo} ORDER BY Id LIMIT 1 OFFSET {offset}",
             history_soql(OPPORTUNITY_HISTORY, estimate, me)]
    if org.teams:  # (an org without Team Selling has no such object to ask)
        soqls.append(f"SELECT Id FROM {TEAM_MEMBER} LIMIT 1")
    prepared = updated.prepare(tuple(_polled(org)), marks, now, since=None,
                               lookback=org.lookback)
    results, answers = reader.composite_read(soqls, prepared.resources(), include_deleted=True)
    plans, roles, beyond, history, *members = results
    for row in history:  # history rows are stamped by their creation
        row["SystemModstamp"] = row["CreatedDate"]
    return FirstRead(large=bool(beyond), plans=bool(plans), contact_roles=bool(roles),
                     team_members=any(members), polled_at=reader.server_time,
                     history=history, prepared=prepared, answers=answers)


def run_streamed(org: Org, run: Run, jobs: RunSpanningJobs, found: FirstRead,
                 marks: Mapping[str, Watermark | None], me: str | None,
                 extra: Iterable[str]) -> None:
    """Plan the org's Opportunities chunk by chunk into a spool, write it, commit it."""
    reader = org.salesforce
    polled_at = found.polled_at
    spool = Spool(uuid.uuid4().hex)
    spool.start()
    first_cycle_push.begin(org, spool)
    whole = False
    try:
        people = [kind for kind, held in (("roles", found.contact_roles),
                                          ("team", found.team_members)) if held]
        in_full: dict[str, list[dict[str, Any]]] = {}  # rows of the lookback window, marks
        counted: dict[str, int] = {}
        for kind in people:
            sobject = PEOPLE[kind][0]
            in_full[sobject], counted[sobject] = _read_people(org, spool, kind, polled_at)
        # Rows of the history window touch their Opportunity, as do ``extra`` ones: each is
        # planned with its chunk when the stream brings it, the rest in a chunk of their own.
        pending = dict.fromkeys([*(str(r["OpportunityId"]) for r in found.history
                                   if r.get("OpportunityId")), *extra])
        recent: dict[str, dt.datetime] = {}  # row keys inside the lookback window: the mark
        floor = polled_at - org.lookback if polled_at is not None else None
        batches = streamed = 0
        stream = reader.bulk_query(
            changes_soql(OPPORTUNITY, None, me).replace(" ORDER BY SystemModstamp, Id", ""),
            include_deleted=True, max_records=PAGE_ROWS)
        for n, chunk in enumerate(batched(_typed_rows(stream), org.chunk_size)):
            if n:
                run.control.stop.check()
            for row in chunk:
                pending.pop(str(row["Id"]), None)
                stamp = parse_stamp(str(row["SystemModstamp"]))
                if floor is None or stamp >= floor:
                    recent[row_key(row)] = stamp
            spool.append(_decide(org, spool, chunk, [], people, me))
            batches, streamed = batches + 1, streamed + len(chunk)
            run.report.touched = streamed
        if pending or not batches:  # (an empty batch carries the marks of an empty read)
            spool.append(_decide(org, spool, [], list(pending), people, me) if pending
                         else Decisions())
            batches += 1
        run.report.pulled = {OPPORTUNITY: streamed, OPPORTUNITY_HISTORY: len(found.history),
                             **counted}
        run.report.touched = streamed + len(pending)
        next_marks = _marks(org, found, marks, recent, in_full, me)
        whole = True  # from here on, a cycle that ends leaves its push to the next one
        first_cycle_push.push_and_commit(org, run, jobs, spool, batches, next_marks)
    finally:
        if not whole:
            first_cycle_push.abandon(org, spool)


def _decide(org: Org, spool: Spool, rows: list[dict[str, Any]], by_id: list[str],
            people: list[str], me: str | None) -> Decisions:
    """One chunk's decisions: its streamed rows, or Opportunities read by Id (``by_id``);
    ``people``: the kinds of people the org holds (the spool's tables have them)."""
    ids = [str(r["Id"]) for r in rows] or by_id
    pulled = {OPPORTUNITY: rows, PLAN_OBJECT: [], MILESTONE_OBJECT: []}
    roles, team = (spool.tables.people(kind, ids) if kind in people else {}
                   for kind in ("roles", "team"))
    gathered = gather(org.salesforce, org.store, org.mapping, org.id, ids, pulled,
                      first_read=True, roles=roles, me=me, team=team, teams=org.teams)
    return decide(gathered, org.planner, me, org.clock().date())


def _marks(org: Org, found: FirstRead, marks: Mapping[str, Watermark | None],
           recent: dict[str, dt.datetime], in_full: dict[str, list[dict[str, Any]]],
           me: str | None) -> dict[str, Watermark | None]:
    """The watermarks a first read leaves, as :func:`sync.cycle.pull.read` would: the read
    position at the poll, the rows of the lookback window before it known as taken."""
    polled_at, lookback = found.polled_at, org.lookback
    out: dict[str, Watermark | None] = {
        PLAN_OBJECT: advance(None, [], lookback, polled_at),
        MILESTONE_OBJECT: advance(None, [], lookback, polled_at),
        OPPORTUNITY_HISTORY: advance(None, found.history, lookback, polled_at)}
    if polled_at is not None or recent:
        # the mark advance() gives over every row, from the keys of the recent ones only
        start = polled_at or max(recent.values())
        out[OPPORTUNITY] = advance(Watermark(start, frozenset(recent)), [], lookback)
    changes = updated.collect(org.salesforce, found.prepared, found.answers, marks,
                              _polled(org), me, polled_at, in_full)
    out.update(changes.marks)
    return out


def _polled(org: Org) -> dict[str, tuple[str, ...]]:
    return {obj: fields for obj, fields in POLLED_BY_UPDATES.items()
            if org.teams or obj != TEAM_MEMBER}


def _read_people(org: Org, spool: Spool, kind: str,
                 polled_at: dt.datetime | None) -> tuple[list[dict[str, Any]], int]:
    """Every contact role or team member (one Bulk query) into the spool's tables: the rows
    of the lookback window, read as a later poll reads a changed one, for the marks; how
    many people were kept."""
    sobject = PEOPLE[kind][0]
    fields = updated.read_fields(POLLED_BY_UPDATES[sobject])
    select = ", ".join(dict.fromkeys((*fields, *PEOPLE_FIELDS[kind])))
    recent: list[dict[str, Any]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for row in _typed_rows(org.salesforce.bulk_query(
                f"SELECT {select} FROM {sobject}", include_deleted=sobject == CONTACT_ROLE,
                max_records=PAGE_ROWS)):
            recent.extend(_recent([{k: row.get(k) for k in fields}], polled_at, org.lookback))
            yield row

    kept = spool.tables.keep_people(kind, rows())
    return recent, kept


def _recent(rows: list[dict[str, Any]], polled_at: dt.datetime | None,
            lookback: dt.timedelta) -> list[dict[str, Any]]:
    if polled_at is None:
        return rows
    floor = polled_at - lookback - dt.timedelta(minutes=1)  # a window's whole minute
    return [r for r in rows if parse_stamp(str(r["SystemModstamp"])) >= floor]


def _typed_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Bulk CSV rows shaped as REST gives them (booleans, numbers, null; a datetime's zone as
    ``+0000``), so a row's ``Id@SystemModstamp#digest`` is the one a later REST read makes."""
    for row in rows:
        out: dict[str, Any] = {}
        for key, value in row.items():
            if value is None or value == "":
                out[key] = None
            elif key in _BOOLEANS:
                out[key] = str(value).strip().lower() == "true"
            elif key in _NUMBERS:
                out[key] = float(value)
            elif key == "SystemModstamp" and str(value).endswith("Z"):
                out[key] = str(value)[:-1] + "+0000"
            else:
                out[key] = value
        yield out
