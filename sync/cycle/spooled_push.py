"""A spooled backfill's writes: one Bulk ingest job per object, for the whole backfill.

Plans first; then the milestones' Tasks (each new Task's description links its plan, whose
Id the plan job's results give); then milestones and Opportunity rollups side by side (a new
milestone names its plan's Id and its new Task's Id, both from the results before). Each
stage reads the spool once, batch by batch, encoding each record of its objects once
(``spool_csv``); each object's CSV then goes in parts cut only at the upload limit, each
written to a file and uploaded from it; each job's results go, row by row, into
the spool's tables (``spool_tables``), which each batch asks for its own records, so nothing
held grows with the run. Each part's job id is saved (``save``) as soon as it is uploaded,
and the object's ids once every part is: a resumed run (a backfill, a streamed first cycle)
collects the results of the jobs it finds saved instead of uploading them again, and of an
object cut short uploads only the parts not saved (cut alike from the same spool). A part
killed mid-upload is uploaded again; upserts by external id make that land on the same
records.

Plans go by their own Ids, not ``Plan__r.External_Id__c``: the plan job's results are read
anyway (the plan index and shadow need every plan's Id), so the Id costs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO, Protocol

from config.errors import FatalError
from connectors.salesforce.bulk import MAX_UPLOAD_BYTES
from connectors.salesforce.errors import RecordError
from connectors.salesforce.results import RecordResult
from sync.cycle.decide import Decisions
from sync.cycle.diff import RecordChange
from sync.cycle.org import Salesforce
from sync.cycle.push import (
    Failure,
    PushResult,
    milestones_to_write,
    new_task_ids,
    rollups_to_write,
    tasks_to_write,
)
from sync.cycle.run import RunControl
from sync.cycle.sobjects import (
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_OBJECT,
    TASK,
    UPSERT_KEY,
)
from sync.cycle.spool import Spool
from sync.cycle.spool_csv import ObjectCsv
from sync.cycle.spool_tables import PEOPLE, PEOPLE_FIELDS, SpoolTables

Records = Callable[[Decisions], list[RecordChange]]

# saved under the object's name + this: the jobs of the parts of an object not yet all uploaded
PARTS = " parts"


class RunSpanningJobs(Protocol):
    """What the spooled push needs of Bulk API 2.0 (``connectors.salesforce.bulk``)."""

    def submit(self, sobject: str, key: str, body: bytes | BinaryIO,
               operation: str = ...) -> str: ...

    def results_into(self, jobs: Sequence[tuple[str, str]], sizes: Sequence[int],
                     sink: Callable[[int, Iterator[RecordResult]], None]) -> list[str]: ...


def people_of(salesforce: Salesforce, tables: SpoolTables, kind: str,
              opportunities: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The contact roles or team members (``kind``) of these Opportunities: the org's all
    are read once, on the first call of the run, into the spool's tables (one Bulk query
    each: a batch asking for its own costs a Composite call per 1,500 Opportunities)."""
    if not tables.has(kind):
        soql = f"SELECT {', '.join(PEOPLE_FIELDS[kind])} FROM {PEOPLE[kind][0]}"
        tables.keep_people(kind, salesforce.bulk_query(soql))
    return tables.people(kind, opportunities)


def run_spanning_jobs(salesforce: object) -> RunSpanningJobs | None:
    """The connector's Bulk jobs, if it can leave them running across processes."""
    jobs = getattr(salesforce, "bulk", None)
    return jobs if hasattr(jobs, "submit") and hasattr(jobs, "results_into") else None


class Written:
    """What the jobs said, looked up in the spool's tables for one batch at a time, turned
    into the batch's records and outcome."""

    def __init__(self, tables: SpoolTables) -> None:
        self.tables = tables
        self._batch: Decisions | None = None  # held: its id is not reused while cached
        self._found: dict[str, dict[str, RecordResult]] = {}

    def found(self, d: Decisions, sobject: str) -> dict[str, RecordResult]:
        """The results of the batch's records of ``sobject``, by key."""
        if self._batch is not d:
            self._batch, self._found = d, {}
        if sobject not in self._found:
            self._found[sobject] = self.tables.results(sobject, _keys(d, sobject))
        return self._found[sobject]

    def _plans(self, d: Decisions) -> tuple[set[str], dict[str, str]]:
        plans = self.found(d, PLAN_OBJECT)
        return ({k for k, r in plans.items() if not r.success},
                {k: r.id for k, r in plans.items() if r.success and r.id})

    def plans(self, d: Decisions) -> list[RecordChange]:
        return [c.plan for c in d.changes if c.plan]

    def tasks(self, d: Decisions) -> list[RecordChange]:
        return tasks_to_write(d, *self._plans(d))

    def milestones(self, d: Decisions) -> list[RecordChange]:
        return milestones_to_write(d, *self._plans(d), new_task_ids(d, self.found(d, TASK)))

    def rollups(self, d: Decisions) -> list[RecordChange]:
        return rollups_to_write(d, self._plans(d)[0])

    def outcome(self, d: Decisions) -> PushResult:
        """One batch's push result, as the jobs wrote it (records prepared as they went)."""
        out = PushResult()
        for sobject, changes in ((PLAN_OBJECT, self.plans(d)), (TASK, self.tasks(d)),
                                 (MILESTONE_OBJECT, self.milestones(d)),
                                 (OPPORTUNITY, self.rollups(d))):
            found = self.found(d, sobject)
            for change in changes:
                result = found.get(change.key)
                if result is not None and result.success:
                    out.written.append((change, result))
                else:
                    out.failed.append(Failure(change, result or RecordResult.failed(
                        change.key, [RecordError("UNPROCESSED",
                                                 "missing from the Bulk job's results")])))
        return out


def _keys(d: Decisions, sobject: str) -> Iterator[str]:
    """The keys the batch's records of ``sobject`` are written under."""
    for c in d.changes:
        if sobject == PLAN_OBJECT:
            yield c.opportunity_id
        elif sobject == OPPORTUNITY and c.rollup:
            yield c.rollup.key
        elif sobject in (TASK, MILESTONE_OBJECT):  # a new Task's link has its milestone's key
            yield from (t.key for t in c.tasks)
            if sobject == MILESTONE_OBJECT:
                yield from (m.key for m in c.milestones)


def push_spool(spool: Spool, jobs: RunSpanningJobs, control: RunControl,
               saved: dict[str, list[str]], save: Callable[[dict[str, list[str]]], None],
               max_bytes: int = MAX_UPLOAD_BYTES) -> Written:
    """Write everything spooled (or collect the saved jobs' results); what landed."""
    written = Written(spool.tables)
    stage = _Stage(spool, jobs, control, saved, save, max_bytes)
    stage.run([(PLAN_OBJECT, written.plans)])
    stage.run([(TASK, written.tasks)])
    stage.run([(MILESTONE_OBJECT, written.milestones), (OPPORTUNITY, written.rollups)])
    return written


class _Stage:
    def __init__(self, spool: Spool, jobs: RunSpanningJobs, control: RunControl,
                 saved: dict[str, list[str]], save: Callable[[dict[str, list[str]]], None],
                 max_bytes: int) -> None:
        self.spool, self.jobs, self.control = spool, jobs, control
        self.saved, self.save, self.max_bytes = saved, save, max_bytes
        self.sizes: dict[str, int] = {}  # records per job submitted by this process

    def run(self, steps: list[tuple[str, Records]], again: bool = True) -> None:
        """Submit the objects' jobs (those not saved yet) side by side, then collect the
        results of those not collected yet into the spool's tables.

        A saved job Salesforce no longer has (a run resumed over 7 days after its upload,
        or a job someone deleted) is uploaded again, and only that part of its object: the
        parts are cut alike from the same spool (upserts by external id land on the same
        records), so a part whose job stands is not sent twice. Once: a job just uploaded
        and gone is an error."""
        todo = [(sobject, records) for sobject, records in steps if sobject not in self.saved]
        if todo:
            self._submit(todo)
        tables = self.spool.tables
        pending = [(sobject, job) for sobject, _ in steps for job in self.saved[sobject]
                   if not tables.collected(job)]
        if not pending:
            return
        gone = set(self.jobs.results_into(
            [(job, UPSERT_KEY[sobject]) for sobject, job in pending],
            [self.sizes.get(job, 0) for _, job in pending],
            lambda n, results: tables.keep(*pending[n], results)))
        if not gone:
            return
        if not again:
            raise FatalError(f"Bulk jobs {', '.join(sorted(gone))} were gone as soon as "
                             "they were uploaded", error_code="BULK_JOB_GONE")
        for sobject in {sobject for sobject, job in pending if job in gone}:
            parts = ["" if job in gone else job for job in self.saved[sobject]]  # "": to send
            self.saved = {**{k: v for k, v in self.saved.items() if k != sobject},
                          sobject + PARTS: parts}
        self.save(self.saved)
        self.run(steps, again=False)

    def _submit(self, steps: list[tuple[str, Records]]) -> None:
        """One read of the spool encodes every record of the stage's objects
        (``spool_csv``); then each object's parts are uploaded, and its jobs saved."""
        lines = {sobject: ObjectCsv(self.spool.path.with_suffix(f".{n}.lines"),
                                    UPSERT_KEY[sobject])
                 for n, (sobject, _) in enumerate(steps)}
        # each part is written to a file beside the spool and uploaded from there: a part
        # is up to the upload limit, more than a run should hold in memory
        part = self.spool.path.with_suffix(".part")
        try:
            for d in self.spool.batches():
                for sobject, records in steps:
                    add = lines[sobject].add
                    for change in records(d):
                        add(change)
            with part.open("w+b") as out:
                for sobject, _ in steps:
                    key = UPSERT_KEY[sobject]
                    operation = "update" if key == "Id" else "upsert"
                    ids = [self._send(sobject, key, out, count, operation, n)
                           for n, count in enumerate(lines[sobject].parts(out, self.max_bytes))]
                    self.saved = {**{k: v for k, v in self.saved.items() if k != sobject + PARTS},
                                  sobject: ids}
                    self.save(self.saved)
        finally:
            part.unlink(missing_ok=True)
            for object_lines in lines.values():
                object_lines.close()

    def _send(self, sobject: str, key: str, part: BinaryIO, count: int, operation: str,
              n: int) -> str:
        """Upload part ``n`` of the object's CSV, unless a run before this one did (the
        parts are cut alike from the same spool): its job id, saved as soon as uploaded."""
        sent = self.saved.get(sobject + PARTS, [])
        if n < len(sent) and sent[n]:
            return sent[n]
        part.flush()
        self.control.check_write()
        job = self.jobs.submit(sobject, key, part, operation)
        self.sizes[job] = count
        self.saved = {**self.saved, sobject + PARTS: [*sent[:n], job, *sent[n + 1:]]}
        self.save(self.saved)
        return job
