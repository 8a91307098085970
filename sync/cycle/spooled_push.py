"""A spooled backfill's writes: one Bulk ingest job per object, for the whole backfill.

Plans first; then the milestones' Tasks (each new Task's description links its plan, whose
Id the plan job's results give); then milestones and Opportunity rollups side by side (a new
milestone names its plan's Id and its new Task's Id, both from the results before). Each
object's CSV is built from the spool, batch by batch, into parts cut only at the upload
limit, so at most one part is in memory. A job's id is saved (``save``) once every part of
its object is uploaded: a resumed backfill collects the results of the jobs it finds saved
instead of uploading them again; an object whose jobs were never all created is uploaded
again, and upserts by external id make that repeat land on the same records.

Plans go by their own Ids, not ``Plan__r.External_Id__c``: the plan job's results are read
anyway (the plan index and shadow need every plan's Id), so the Id costs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from connectors.salesforce.bulk import MAX_UPLOAD_BYTES
from connectors.salesforce.bulk_csv import _header, _rows
from connectors.salesforce.errors import RecordError
from connectors.salesforce.results import RecordResult
from sync.cycle.decide import Decisions
from sync.cycle.diff import RecordChange
from sync.cycle.org import Salesforce
from sync.cycle.pull import Team, team_by_opportunity
from sync.cycle.push import (
    Failure,
    PushResult,
    milestones_to_write,
    rollups_to_write,
    tasks_to_write,
)
from sync.cycle.run import RunControl
from sync.cycle.sobjects import (
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_OBJECT,
    TASK,
    TEAM_MEMBER,
    UPSERT_KEY,
)
from sync.cycle.spool import Spool

Results = dict[str, dict[str, RecordResult]]  # object -> key -> result
Records = Callable[[Decisions], list[RecordChange]]


class RunSpanningJobs(Protocol):
    """What the spooled push needs of Bulk API 2.0 (``connectors.salesforce.bulk``)."""

    def submit(self, sobject: str, key: str, body: bytes, operation: str = ...) -> str: ...

    def results_by_key(self, jobs: list[tuple[str, str]], sizes: list[int] = ...
                       ) -> list[dict[str, RecordResult]]: ...


def every_team_member(salesforce: Salesforce) -> Team:
    """Every Opportunity Team member of the org in one Bulk query, for all of a spooled
    backfill's batches (each batch asking for its own costs a Composite call per 1,500)."""
    return team_by_opportunity(salesforce.bulk_query(
        f"SELECT OpportunityId, UserId, TeamMemberRole FROM {TEAM_MEMBER}"))


def run_spanning_jobs(salesforce: object) -> RunSpanningJobs | None:
    """The connector's Bulk jobs, if it can leave them running across processes."""
    jobs = getattr(salesforce, "bulk", None)
    return jobs if hasattr(jobs, "submit") and hasattr(jobs, "results_by_key") else None


class Written:
    """What the jobs' results say, turned into each batch's records and outcome."""

    def __init__(self, results: Results) -> None:
        self.results = results
        plans = results.get(PLAN_OBJECT, {})
        self.plan_ids = {k: r.id for k, r in plans.items() if r.success and r.id}
        self.failed_plans = {k for k, r in plans.items() if not r.success}
        tasks = results.get(TASK, {})
        self.new_tasks = {k: r.id for k, r in tasks.items() if r.success and r.created and r.id}

    def plans(self, d: Decisions) -> list[RecordChange]:
        return [c.plan for c in d.changes if c.plan]

    def tasks(self, d: Decisions) -> list[RecordChange]:
        return tasks_to_write(d, self.failed_plans, self.plan_ids)

    def milestones(self, d: Decisions) -> list[RecordChange]:
        mine = {t.key: self.new_tasks[t.key] for c in d.changes for t in c.tasks
                if t.key in self.new_tasks}
        return milestones_to_write(d, self.failed_plans, self.plan_ids, mine)

    def rollups(self, d: Decisions) -> list[RecordChange]:
        return rollups_to_write(d, self.failed_plans)

    def outcome(self, d: Decisions) -> PushResult:
        """One batch's push result, as the jobs wrote it (records prepared as they went)."""
        out = PushResult()
        for sobject, changes in ((PLAN_OBJECT, self.plans(d)), (TASK, self.tasks(d)),
                                 (MILESTONE_OBJECT, self.milestones(d)),
                                 (OPPORTUNITY, self.rollups(d))):
            found = self.results.get(sobject, {})
            for change in changes:
                result = found.get(change.key)
                if result is not None and result.success:
                    out.written.append((change, result))
                else:
                    out.failed.append(Failure(change, result or RecordResult.failed(
                        change.key, [RecordError("UNPROCESSED",
                                                 "missing from the Bulk job's results")])))
        return out


def push_spool(spool: Spool, jobs: RunSpanningJobs, control: RunControl,
               saved: dict[str, list[str]], save: Callable[[dict[str, list[str]]], None],
               max_bytes: int = MAX_UPLOAD_BYTES) -> Written:
    """Write everything spooled (or collect the saved jobs' results); what landed."""
    results: Results = {}
    stage = _Stage(spool, jobs, control, saved, save, max_bytes)
    stage.run([(PLAN_OBJECT, Written(results).plans)], results)
    stage.run([(TASK, Written(results).tasks)], results)
    written = Written(results)
    stage.run([(MILESTONE_OBJECT, written.milestones), (OPPORTUNITY, written.rollups)], results)
    return Written(results)


class _Stage:
    def __init__(self, spool: Spool, jobs: RunSpanningJobs, control: RunControl,
                 saved: dict[str, list[str]], save: Callable[[dict[str, list[str]]], None],
                 max_bytes: int) -> None:
        self.spool, self.jobs, self.control = spool, jobs, control
        self.saved, self.save, self.max_bytes = saved, save, max_bytes
        self.sizes: dict[str, int] = {}  # records per job submitted by this process

    def run(self, steps: list[tuple[str, Records]], into: Results) -> None:
        """Submit the objects' jobs (those not saved yet) side by side, then collect."""
        for sobject, records in steps:
            if sobject not in self.saved:
                ids = list(self._submit(sobject, records))
                self.saved = {**self.saved, sobject: ids}
                self.save(self.saved)
        pending = [(job, UPSERT_KEY[sobject]) for sobject, _ in steps
                   for job in self.saved[sobject]]
        owners = [sobject for sobject, _ in steps for _ in self.saved[sobject]]
        for sobject, _ in steps:
            into.setdefault(sobject, {})
        if pending:
            sizes = [self.sizes.get(job, 0) for job, _ in pending]
            for sobject, found in zip(owners, self.jobs.results_by_key(pending, sizes),
                                      strict=True):
                into[sobject].update(found)

    def _submit(self, sobject: str, records: Records) -> Iterable[str]:
        key = UPSERT_KEY[sobject]
        columns = {key: None}
        for d in self.spool.batches():
            for change in records(d):
                columns.update(dict.fromkeys(change.fields))
        names = list(columns)
        header = _header(names)
        lines, size = [header], len(header)
        operation = "update" if key == "Id" else "upsert"
        for d in self.spool.batches():
            for row in _rows(_bodies(records(d), key), names):
                if len(lines) > 1 and size + len(row) > self.max_bytes:
                    yield self._send(sobject, key, lines, operation)
                    lines, size = [header], len(header)
                lines.append(row)
                size += len(row)
        if len(lines) > 1:
            yield self._send(sobject, key, lines, operation)

    def _send(self, sobject: str, key: str, lines: list[bytes], operation: str) -> str:
        self.control.check_write()
        job = self.jobs.submit(sobject, key, b"".join(lines), operation)
        self.sizes[job] = len(lines) - 1
        return job


def _bodies(changes: list[RecordChange], key: str) -> Iterable[dict[str, Any]]:
    for change in changes:
        body = change.payload()
        body[key] = change.key
        yield body
