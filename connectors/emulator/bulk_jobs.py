"""Bulk API 2.0 jobs of the local org: what a job is, its states and the book that holds them.

A Bulk job is a small state machine that clients poll: ingest jobs go Open → UploadComplete →
InProgress → JobComplete (or Failed, or Aborted on request); query jobs start at
UploadComplete. Clients decide what to do from the state and the counters in the job's JSON
(``numberRecordsProcessed``, ``numberRecordsFailed``), so both are kept exactly as Salesforce
reports them. A job's metadata lives in memory, in a ``JobBook`` per running org, and its
data (upload, results, query rows) in files under the org's directory (``bulk_files.py``):
like query cursors jobs survive nothing more than the process, which is all a client ever
relies on, but a million-row job costs disk, not memory. Bulk API 1.0 batches (at most
10,000 records each) run as jobs without files, their rows in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.emulator import ids
from connectors.emulator.bulk_files import UPLOAD, JobFiles, RowSpool
from connectors.emulator.errors import ApiError

JOB_PREFIX = "750"
OPEN, UPLOAD_COMPLETE, IN_PROGRESS = "Open", "UploadComplete", "InProgress"
JOB_COMPLETE, FAILED, ABORTED = "JobComplete", "Failed", "Aborted"
QUERY_BLOCK = 5_000  # rows of a query page rendered at a time
FINISHED = frozenset({JOB_COMPLETE, FAILED, ABORTED})
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
LINE_ENDINGS = ("LF", "CRLF")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}


def invalid_job(message: str) -> ApiError:
    return ApiError(400, "INVALIDJOB", message)


@dataclass
class IngestOutcome:
    """One processed CSV row: its record Id, whether it was created, its error, its cells."""

    record_id: str | None
    created: bool
    error: str | None  # ``CODE:message:fields --`` as ``sf__Error`` writes it
    cells: list[str]


@dataclass
class Job:
    """One Bulk API 2.0 job and everything its result resources answer."""

    id: str
    kind: str  # "ingest" | "query"
    operation: str
    sobject: str
    created_by: str
    created_date: str
    api_version: str
    line_ending: str = "LF"
    column_delimiter: str = "COMMA"
    external_id_field: str | None = None
    query: str | None = None
    state: str = OPEN
    modstamp: str = ""
    error_message: str | None = None
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0
    # where the job's data lives; None: in the fields below (Bulk API 1.0 batches)
    files: JobFiles | None = None
    spool: RowSpool | None = None  # a query job's rows, once it ran
    # ingest: the uploaded CSV, then one outcome per row and the rows never processed
    upload: bytes | None = None
    header: list[str] = field(default_factory=list)
    outcomes: list[IngestOutcome] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    # query: (CSV column, row index, cell renderer) and the rows the query returned
    query_columns: list[tuple[str, int, Callable[[Any], str]]] = field(default_factory=list)
    query_rows: list[tuple[Any, ...]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def uploaded(self) -> bool:
        if self.files is not None:
            return self.files.exists(UPLOAD)
        return self.upload is not None

    def query_blocks(self, start: int, count: int) -> Iterator[Sequence[Any]]:
        """The query's rows ``start`` to ``start + count``, a block at a time."""
        if self.spool is not None:
            yield from self.spool.blocks(start, count)
            return
        for at in range(start, min(start + count, len(self.query_rows)), QUERY_BLOCK):
            yield self.query_rows[at:min(at + QUERY_BLOCK, start + count)]

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    @property
    def newline(self) -> str:
        return "\r\n" if self.line_ending == "CRLF" else "\n"

    def info(self, detail: bool = True) -> dict[str, Any]:
        """The job as ``GET jobs/{kind}/{id}`` answers it (``detail=False``: as created)."""
        out: dict[str, Any] = {"id": self.id, "operation": self.operation,
                               "object": self.sobject, "createdById": self.created_by,
                               "createdDate": self.created_date,
                               "systemModstamp": self.modstamp or self.created_date,
                               "state": self.state}
        if self.external_id_field:
            out["externalIdFieldName"] = self.external_id_field
        out.update(concurrencyMode="Parallel", contentType="CSV",
                   apiVersion=float(self.api_version))
        if self.kind == "ingest" and not detail:
            out["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        if detail:
            out["jobType"] = "V2Ingest" if self.kind == "ingest" else "V2Query"
        out.update(lineEnding=self.line_ending, columnDelimiter=self.column_delimiter)
        if detail:
            out["numberRecordsProcessed"] = self.processed
            if self.kind == "ingest":
                out["numberRecordsFailed"] = self.failed
            out["retries"] = 0
            out["totalProcessingTime"] = self.processing_ms
            if self.kind == "ingest":
                out.update(apiActiveProcessingTime=self.processing_ms, apexProcessingTime=0)
            else:
                out["isPkChunkingSupported"] = True
            if self.error_message:
                out["errorMessage"] = self.error_message
        return out


BATCH_RECORDS = 10_000  # records per internal batch of a Bulk API 2.0 ingest job
DAILY_BATCHES = 15_000  # Bulk batches a day, Bulk API 1.0 and 2.0 together
DAILY_QUERY_JOBS = 10_000  # Bulk API 2.0 query jobs a day


class BulkTally:
    """How many Bulk jobs the org ran and how often clients polled them (thread-safe).

    A poll is a ``GET`` of one job's state: the count a client's polling strategy spends,
    which benchmarks report per job beside the org's processing time. ``batches`` and
    ``query_jobs`` are what Salesforce counts against the org's daily Bulk allocations
    (``DailyBulkApiBatches``, ``DailyBulkV2QueryJobs`` in ``/limits``): every Bulk API 1.0
    batch, and one batch per 10,000 records (at least one) of each Bulk API 2.0 ingest job
    processed; Bulk API 2.0 query jobs count apart and consume no batch.
    """

    def __init__(self) -> None:
        self.jobs = 0
        self.polls = 0
        self.batches = 0
        self.query_jobs = 0
        self.uploaded: dict[str, int] = {}  # CSV bytes uploaded to ingest jobs, by object
        self._lock = threading.Lock()

    def job(self) -> None:
        with self._lock:
            self.jobs += 1

    def batch(self, count: int = 1) -> None:
        with self._lock:
            self.batches += count

    def query_job(self) -> None:
        with self._lock:
            self.query_jobs += 1

    def ingested(self, records: int) -> None:
        """A Bulk API 2.0 ingest job of ``records`` rows taken to processing."""
        self.batch(max(1, -(-records // BATCH_RECORDS)))

    def poll(self) -> None:
        with self._lock:
            self.polls += 1

    def upload(self, sobject: str, size: int) -> None:
        with self._lock:
            self.uploaded[sobject] = self.uploaded.get(sobject, 0) + size

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"jobs": self.jobs, "polls": self.polls, "batches": self.batches,
                    "query_jobs": self.query_jobs, "uploaded": dict(self.uploaded)}


class JobBook:
    """The Bulk jobs of one org by Id, the oldest finished ones forgotten first (thread-safe)."""

    def __init__(self, keep: int = 100) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._keep = keep
        self._serial = 0
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            self._serial += 1
            return ids.make_id(JOB_PREFIX, self._serial)

    def add(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in FINISHED]
            gone = finished[:max(0, len(self._jobs) - self._keep)]
            for old in gone:
                self._jobs.pop(old.id, None)
        for old in gone:
            _forget(old)
        return job

    def get(self, job_id: str, kind: str) -> Job:
        """The job ``job_id`` of ``kind``; 404 NOT_FOUND as Salesforce answers unknown ids."""
        norm = ids.normalize(job_id)
        with self._lock:
            job = self._jobs.get(norm or "")
        if job is None or job.kind != kind:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def remove(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        _forget(job)

    def all(self, kind: str) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.kind == kind]


def _forget(job: Job) -> None:
    """A job gone from the book: its files go with it."""
    if job.files is not None:
        job.files.remove()
