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
  each, into a temporary file each chunk asks (:mod:`sync.cycle.people`);
- the spool is written in one Bulk job per object (:func:`sync.cycle.spooled_push.push_spool`),
  then committed batch by batch, the watermarks with the last batch only.

A cycle stopped or killed before its last commit leaves the watermarks where they were: the
next cycle reads again from the start. If the plans job had run, the org now holds plans and
that cycle takes the chunked path, which reads them back; otherwise it uploads again. Either
way upserts by external id land on the same records. Job ids are not checkpointed (a first
cycle has no checkpoint row to keep them in): a repeat uploads again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.batching import batched
from connectors.salesforce.soql import quote
from sync.cycle import updated
from sync.cycle.commit import commit, tally
from sync.cycle.decide import Decisions, decide
from sync.cycle.gather import gather
from sync.cycle.org import Org
from sync.cycle.people import PeopleFile, member_order, role_order
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
from sync.cycle.spooled_push import RunSpanningJobs, push_spool
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
    roles = PeopleFile() if found.contact_roles else None
    team = PeopleFile() if found.team_members else None
    try:
        _stream(org, run, jobs, found, marks, me, extra, roles, team)
    finally:
        for people in (roles, team):
            if people is not None:
                people.close()


def _stream(org: Org, run: Run, jobs: RunSpanningJobs, found: FirstRead,
            marks: Mapping[str, Watermark | None], me: str | None, extra: Iterable[str],
            roles: PeopleFile | None, team: PeopleFile | None) -> None:
    reader = org.salesforce
    polled_at = found.polled_at
    in_full: dict[str, list[dict[str, Any]]] = {}  # rows of the lookback window, for marks
    if roles is not None:
        in_full[CONTACT_ROLE] = _read_people(org, CONTACT_ROLE, roles, polled_at)
    if team is not None:
        in_full[TEAM_MEMBER] = _read_people(org, TEAM_MEMBER, team, polled_at)
    # Rows of the history window touch their Opportunity, as do ``extra`` ones: each is
    # planned with its chunk when the stream brings it, the rest in a chunk of their own.
    pending = dict.fromkeys([*(str(r["OpportunityId"]) for r in found.history
                               if r.get("OpportunityId")), *extra])
    recent: dict[str, dt.datetime] = {}  # row keys inside the lookback window: the mark
    floor = polled_at - org.lookback if polled_at is not None else None
    spool = Spool(uuid.uuid4().hex)
    spool.start()
    try:
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
            spool.append(_decide(org, chunk, [], roles, team, me))
            batches, streamed = batches + 1, streamed + len(chunk)
            run.report.touched = streamed
        if pending or not batches:  # (an empty batch carries the marks of an empty read)
            spool.append(_decide(org, [], list(pending), roles, team, me) if pending
                         else Decisions())
            batches += 1
        run.report.pulled = {OPPORTUNITY: streamed, OPPORTUNITY_HISTORY: len(found.history)}
        for sobject, people in ((CONTACT_ROLE, roles), (TEAM_MEMBER, team)):
            if people is not None:
                run.report.pulled[sobject] = people.count
        run.report.touched = streamed + len(pending)
        next_marks = _marks(org, found, marks, recent, in_full, me)
        written = push_spool(spool, jobs, run.control, {}, lambda saved: None)
        for n, decisions in enumerate(spool.batches()):
            last = n == batches - 1
            result = written.outcome(decisions)
            tally(run.report, decisions, result)
            commit(run, decisions, result, marks=next_marks if last else None, final=last)
    finally:
        spool.remove()


def _decide(org: Org, rows: list[dict[str, Any]], by_id: list[str], roles: PeopleFile | None,
            team: PeopleFile | None, me: str | None) -> Decisions:
    """One chunk's decisions: its streamed rows, or Opportunities read by Id (``by_id``)."""
    ids = [str(r["Id"]) for r in rows] or by_id
    pulled = {OPPORTUNITY: rows, PLAN_OBJECT: [], MILESTONE_OBJECT: []}
    gathered = gather(org.salesforce, org.store, org.mapping, org.id, ids, pulled,
                      first_read=True, roles=roles.of(ids) if roles is not None else {}, me=me,
                      team=team.of(ids) if team is not None else {}, teams=org.teams)
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


def _read_people(org: Org, sobject: str, into: PeopleFile,
                 polled_at: dt.datetime | None) -> list[dict[str, Any]]:
    """Every contact role or team member (one Bulk query) into ``into``; the rows of the
    lookback window, read as a later poll reads a changed one, for the marks."""
    fields = updated.read_fields(POLLED_BY_UPDATES[sobject])
    roles = sobject == CONTACT_ROLE
    select = ", ".join(fields if roles else (*fields, "CreatedDate"))
    recent: list[dict[str, Any]] = []
    for row in _typed_rows(org.salesforce.bulk_query(f"SELECT {select} FROM {sobject}",
                                                     include_deleted=roles,
                                                     max_records=PAGE_ROWS)):
        who = row.get("ContactId" if roles else "UserId")
        if who and row.get("OpportunityId") and not row.get("IsDeleted"):
            into.add(str(row["OpportunityId"]), role_order(row) if roles else member_order(row),
                     str(row.get("Role" if roles else "TeamMemberRole") or ""), str(who))
        recent += _recent([{k: row.get(k) for k in fields}], polled_at, org.lookback)
    into.ready()
    return recent


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
