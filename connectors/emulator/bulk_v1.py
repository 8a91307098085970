"""Bulk API 1.0 jobs and batches of the local org, run by the Bulk API 2.0 machinery.

Bulk API 1.0 (``/services/async``) is what simple-salesforce's ``sf.bulk``, tap-salesforce's
BULK mode and many loaders speak: a job (Open → Closed, or Aborted) holds batches the client
adds one by one, each processed on its own (Queued → InProgress → Completed or Failed) with
its own results. A batch here is run as a one-batch Bulk 2.0 job (``bulk_ingest`` writes its
rows through the org's store, ``bulk_query`` runs its SOQL), so a record or a query fails the
same way in both APIs; this module only keeps the 1.0 shapes: job and batch info in XML or
JSON, ingest results per row, query results as a list of result ids.

JSON jobs differ from CSV jobs as Salesforce's do: records are JSON objects (``null`` sets a
field to null, an absent key leaves it alone, ``{"Plan__r": {"External_Id__c": ...}}`` names
a parent), and query results give dates and datetimes as milliseconds since the epoch.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from connectors.emulator import ids
from connectors.emulator.bulk_ingest import NULL, process_ingest
from connectors.emulator.bulk_jobs import FAILED, UPLOAD_COMPLETE, IngestOutcome
from connectors.emulator.bulk_jobs import Job as RunJob
from connectors.emulator.bulk_query import compile_job_query, result_page, run_query
from connectors.emulator.errors import ApiError
from connectors.emulator.org import Org
from connectors.emulator.schema import Schema
from connectors.emulator.soql import CompiledQuery
from connectors.emulator.values import parse_datetime

ASYNC_NS = "http://www.force.com/2009/06/asyncapi/dataload"
JOB_PREFIX, BATCH_PREFIX, RESULT_PREFIX = "750", "751", "752"
OPEN, CLOSED, ABORTED, JOB_FAILED = "Open", "Closed", "Aborted", "Failed"
QUEUED, IN_PROGRESS, COMPLETED = "Queued", "InProgress", "Completed"
BATCH_FAILED, NOT_PROCESSED = "Failed", "Not Processed"
BATCH_DONE = frozenset({COMPLETED, BATCH_FAILED, NOT_PROCESSED})
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll")
CONTENT_TYPES = ("CSV", "JSON")
MAX_BATCH_RECORDS = 10_000
RESULT_ROWS = 100_000  # rows per query result file (Salesforce cuts them at 1 GB)


def bulk_error(code: str, message: str, status: int = 400) -> ApiError:
    """A Bulk API 1.0 error: ``exceptionCode`` and ``exceptionMessage``."""
    return ApiError(status, code, message)


@dataclass
class Batch:
    """One batch: its data, state and, once processed, its results."""

    id: str
    job_id: str
    created_date: str
    data: bytes
    state: str = QUEUED
    state_message: str | None = None
    modstamp: str = ""
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0
    outcomes: list[IngestOutcome] = field(default_factory=list)
    run: RunJob | None = None  # a query batch's rows, as its Bulk 2.0 run holds them
    plan_schema: Schema | None = None
    compiled: CompiledQuery | None = None
    result_ids: list[str] = field(default_factory=list)

    def info(self) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = [("id", self.id), ("jobId", self.job_id),
                                         ("state", self.state)]
        if self.state_message:
            out.append(("stateMessage", self.state_message))
        out += [("createdDate", self.created_date),
                ("systemModstamp", self.modstamp or self.created_date),
                ("numberRecordsProcessed", self.processed),
                ("numberRecordsFailed", self.failed),
                ("totalProcessingTime", self.processing_ms),
                ("apiActiveProcessingTime", self.processing_ms), ("apexProcessingTime", 0)]
        return out


@dataclass
class BulkJob:
    """One Bulk API 1.0 job and its batches."""

    id: str
    operation: str
    sobject: str
    content_type: str
    created_by: str
    created_date: str
    api_version: str
    concurrency: str = "Parallel"
    external_id_field: str | None = None
    state: str = OPEN
    modstamp: str = ""
    batches: OrderedDict[str, Batch] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_query(self) -> bool:
        return self.operation in ("query", "queryAll")

    def info(self) -> list[tuple[str, object]]:
        batches = list(self.batches.values())

        def count(state: str) -> int:
            return sum(b.state == state for b in batches)

        out: list[tuple[str, object]] = [
            ("id", self.id), ("operation", self.operation), ("object", self.sobject)]
        if self.external_id_field:
            out.append(("externalIdFieldName", self.external_id_field))
        out += [("createdById", self.created_by), ("createdDate", self.created_date),
                ("systemModstamp", self.modstamp or self.created_date), ("state", self.state),
                ("concurrencyMode", self.concurrency), ("contentType", self.content_type),
                ("numberBatchesQueued", count(QUEUED)),
                ("numberBatchesInProgress", count(IN_PROGRESS)),
                ("numberBatchesCompleted", count(COMPLETED)),
                ("numberBatchesFailed", count(BATCH_FAILED)),
                ("numberBatchesTotal", len(batches)),
                ("numberRecordsProcessed", sum(b.processed for b in batches)),
                ("numberRetries", 0), ("apiVersion", float(self.api_version)),
                ("numberRecordsFailed", sum(b.failed for b in batches)),
                ("totalProcessingTime", sum(b.processing_ms for b in batches)),
                ("apiActiveProcessingTime", sum(b.processing_ms for b in batches)),
                ("apexProcessingTime", 0)]
        return out


class BulkBook:
    """The Bulk API 1.0 jobs of one running org (thread-safe); the oldest closed go first."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: OrderedDict[str, BulkJob] = OrderedDict()
        self._serial = 0
        self._keep = keep
        self._lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        with self._lock:
            self._serial += 1
            return ids.make_id(prefix, self._serial)

    def add(self, job: BulkJob) -> None:
        with self._lock:
            self._jobs[job.id] = job
            for old in [j for j in self._jobs.values() if j.state != OPEN][
                    :max(0, len(self._jobs) - self._keep)]:
                self._jobs.pop(old.id, None)

    def job(self, job_id: str) -> BulkJob:
        with self._lock:
            job = self._jobs.get(ids.normalize(job_id) or "")
        if job is None:
            raise bulk_error("InvalidJob", f"Invalid job id: {job_id}")
        return job


def batch_of(job: BulkJob, batch_id: str) -> Batch:
    batch = job.batches.get(ids.normalize(batch_id) or "")
    if batch is None:
        raise bulk_error("InvalidBatch", f"Invalid batch id: {batch_id}")
    return batch


# ---- processing ----------------------------------------------------------------------------

def _run_job(job: BulkJob, batch: Batch, kind: str) -> RunJob:
    return RunJob(id=batch.id, kind=kind, operation=job.operation, sobject=job.sobject,
                  created_by=job.created_by, created_date=batch.created_date,
                  api_version=job.api_version, external_id_field=job.external_id_field)


def process_batch(org: Org, job: BulkJob, batch: Batch) -> None:
    """Run one batch to Completed or Failed (in its own thread, as Salesforce queues it)."""
    with job.lock:
        if job.state == ABORTED:
            batch.state = NOT_PROCESSED
            return
        batch.state = IN_PROGRESS
    batch.modstamp = org.store.stamp()
    try:
        if job.is_query:
            _query(org, job, batch)
        else:
            _ingest(org, job, batch)
    except ApiError as err:
        batch.state, batch.state_message = BATCH_FAILED, f"{err.error_code} : {err.message}"
    batch.modstamp = org.store.stamp()


def _ingest(org: Org, job: BulkJob, batch: Batch) -> None:
    if job.content_type == "CSV":
        text = batch.data
        if text.count(b"\n") > MAX_BATCH_RECORDS and len(_csv_rows(text)) > MAX_BATCH_RECORDS:
            raise bulk_error("InvalidBatch", f"Records in a batch exceeded {MAX_BATCH_RECORDS}")
    else:
        text = json_to_csv(org, job, batch.data)
    run = _run_job(job, batch, "ingest")
    run.upload = text
    process_ingest(org, run, counts_batches=False)
    batch.processing_ms = run.processing_ms
    batch.outcomes, batch.processed, batch.failed = run.outcomes, run.processed, run.failed
    if run.state == FAILED:
        batch.state, batch.state_message = BATCH_FAILED, run.error_message
        return
    batch.state = COMPLETED


def _csv_rows(text: bytes) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")) if r][1:]


def _query(org: Org, job: BulkJob, batch: Batch) -> None:
    soql = batch.data.decode("utf-8", errors="replace").strip()
    try:
        compiled = compile_job_query(org, soql, job.operation == "queryAll", job.api_version,
                                     job.created_by)
    except ApiError as err:
        raise bulk_error("InvalidBatch", f"Failed to process query: {err.error_code}: "
                         f"{err.message}") from None
    if compiled.sobject != job.sobject:
        raise bulk_error("InvalidBatch", f"Failed to process query: the query reads "
                         f"{compiled.sobject}, the job is for {job.sobject}")
    run = _run_job(job, batch, "query")
    run.query, run.state = soql, UPLOAD_COMPLETE
    run_query(org, run, compiled)
    if run.state == FAILED:
        raise bulk_error("InvalidBatch", (run.error_message or "").removeprefix(
            "InvalidBatch : "))
    batch.run, batch.compiled = run, compiled
    batch.plan_schema = org.access.schema_for(job.created_by)
    batch.processed, batch.processing_ms = run.processed, run.processing_ms
    batch.result_ids = [ids.make_id(RESULT_PREFIX, ids.serial_of(batch.id) * 1000 + n)
                        for n in range(max(1, -(-len(run.query_rows) // RESULT_ROWS)))]
    batch.state = COMPLETED


# ---- JSON batches -------------------------------------------------------------------------

def _cell(value: Any, kind: str | None) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and kind in ("date", "datetime"):
        moment = datetime.fromtimestamp(value / 1000, UTC)
        return moment.date().isoformat() if kind == "date" else moment.isoformat()
    if isinstance(value, dict | list):
        raise bulk_error("InvalidBatch", f"Failed to deserialize the JSON value: {value}")
    return str(value)


def json_to_csv(org: Org, job: BulkJob, data: bytes) -> bytes:
    """A JSON batch as the CSV the ingest runner reads: an absent key becomes an empty cell
    (left alone), ``null`` becomes ``#N/A`` (set to null), a nested parent a dotted column."""
    try:
        records = json.loads(data or b"[]")
    except ValueError:
        raise bulk_error("InvalidBatch", "Failed to parse the JSON batch") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise bulk_error("InvalidBatch", "A JSON batch must be an array of records")
    if len(records) > MAX_BATCH_RECORDS:
        raise bulk_error("InvalidBatch", f"Records in a batch exceeded {MAX_BATCH_RECORDS}")
    obj = org.schema.get(job.sobject)
    assert obj is not None
    flat: list[dict[str, str]] = []
    header: dict[str, None] = {}
    for record in records:
        row: dict[str, str] = {}
        for key, value in record.items():
            if key == "attributes":
                continue
            if isinstance(value, dict):
                for sub, inner in value.items():
                    if sub != "attributes":
                        row[f"{key}.{sub}"] = _cell(inner, None)
                continue
            f = obj.field(key)
            row[key] = _cell(value, f.type if f else None)
        header.update(dict.fromkeys(row))
        flat.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows([[row.get(k, "") for k in header] for row in flat])
    return out.getvalue().encode()


# ---- results ------------------------------------------------------------------------------

def ingest_results_csv(batch: Batch) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["Id", "Success", "Created", "Error"])
    for o in batch.outcomes:
        writer.writerow([o.record_id or "", "false" if o.error else "true",
                         "true" if o.created and not o.error else "false", o.error or ""])
    return out.getvalue()


def _error_json(text: str) -> dict[str, object]:
    """``CODE:message:Field1,Field2 --`` (the CSV form) as a JSON result's error."""
    code, _, rest = text.partition(":")
    message, _, fields = rest.removesuffix("--").rstrip().rpartition(":")
    return {"fields": [f for f in fields.strip().split(",") if f], "message": message,
            "statusCode": code}


def ingest_results_json(batch: Batch) -> list[dict[str, object]]:
    return [{"success": o.error is None, "created": bool(o.created) and o.error is None,
             "id": o.record_id, "errors": [_error_json(o.error)] if o.error else []}
            for o in batch.outcomes]


def _result_slice(batch: Batch, result_id: str) -> tuple[int, int]:
    norm = ids.normalize(result_id) or ""
    if norm not in batch.result_ids:
        raise bulk_error("InvalidBatch", f"Invalid result id: {result_id}")
    return batch.result_ids.index(norm) * RESULT_ROWS, RESULT_ROWS


def query_result_csv(batch: Batch, result_id: str) -> str:
    assert batch.run is not None
    offset, size = _result_slice(batch, result_id)
    return result_page(batch.run, offset, size)[0]


def _epoch_ms(value: Any, kind: str) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "date":
        day = date.fromisoformat(value)
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    moment = parse_datetime(value)
    return value if moment is None else int(moment.timestamp() * 1000)


def _json_dates(schema: Schema, record: dict[str, Any]) -> dict[str, Any]:
    obj = schema.get(str(record.get("attributes", {}).get("type", "")))
    for key, value in record.items():
        if isinstance(value, dict) and "attributes" in value:
            _json_dates(schema, value)
        elif obj is not None and (f := obj.field(key)) is not None and f.type in (
                "date", "datetime"):
            record[key] = _epoch_ms(value, f.type)
    return record


def query_result_json(batch: Batch, result_id: str) -> list[dict[str, Any]]:
    assert batch.run is not None
    assert batch.compiled is not None
    assert batch.compiled.plan is not None
    assert batch.plan_schema is not None
    offset, size = _result_slice(batch, result_id)
    plan, schema = batch.compiled.plan, batch.plan_schema
    return [_json_dates(schema, plan.build(row))
            for row in batch.run.query_rows[offset:offset + size]]
