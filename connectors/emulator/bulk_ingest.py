"""Processing a Bulk API 2.0 ingest job: the uploaded CSV becomes writes through the org's store.

Bulk rows go through the very same validation, stamping and cascades as REST and Collections
writes (``OrgStore``), so a record fails in a Bulk job with the same code it would fail with
anywhere else. Rows are written in chunks of 10,000 (Salesforce's internal batch size), each
chunk one transaction; a failing row fails alone. The org's profile (``profile.py``) decides
how long the job queues and how long each batch takes. CSV conventions are Salesforce's: an empty
cell leaves the field alone, ``#N/A`` sets it to null, and a column such as
``Plan__r.External_Id__c`` names the parent by its external id. A job can end ``Failed``
part way (the ``bulk_fail_after`` knob): the rows processed keep their results, the others
are in ``unprocessedrecords``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice

from connectors.emulator import ids
from connectors.emulator.bulk_files import UPLOAD, JobFailed, scan_csv, upload_rows
from connectors.emulator.bulk_jobs import (
    ABORTED,
    FAILED,
    IN_PROGRESS,
    JOB_COMPLETE,
    IngestOutcome,
    Job,
)
from connectors.emulator.bulk_results import Results
from connectors.emulator.errors import RecordError, RecordFailed, RecordResult
from connectors.emulator.org import Org
from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.store import MultipleMatches, OrgStore

CHUNK = 10_000
NULL = "#N/A"


@dataclass(frozen=True)
class Column:
    """One CSV column: a field, or a parent named by external id (``Plan__r.External_Id__c``)."""

    index: int
    field: FieldDef  # the field written (the lookup field for a parent reference)
    parent: SObjectDef | None = None
    parent_key: FieldDef | None = None


def format_error(error: RecordError) -> str:
    """``sf__Error`` text: ``CODE:message:Field1,Field2 --``; ``CODE:message:--`` without fields."""
    fields = ",".join(error.fields)
    return f"{error.status_code}:{error.message}:{fields + ' ' if fields else ''}--"


def resolve_columns(org: Org, obj: SObjectDef, header: list[str]) -> list[Column]:
    columns: list[Column] = []
    for index, name in enumerate(header):
        rel, dot, key = name.strip().partition(".")
        if dot:
            ref = obj.relationship(rel)
            parent = org.schema.get(ref.reference_to[0]) if ref and ref.reference_to else None
            parent_key = parent.field(key) if parent else None
            if ref is None or parent is None or parent_key is None or not (
                    parent_key.external_id or parent_key.id_lookup):
                raise JobFailed(f"InvalidBatch : Field name not found : {name}")
            columns.append(Column(index, ref, parent, parent_key))
            continue
        f = obj.field(name.strip())
        if f is None:
            raise JobFailed(f"InvalidBatch : Field name not found : {name}")
        columns.append(Column(index, f))
    return columns


class RowWriter:
    """Turns CSV rows of one job into store writes."""

    def __init__(self, org: Org, job: Job, obj: SObjectDef, columns: list[Column]) -> None:
        self.store: OrgStore = org.store
        self.job = job
        self.obj = obj
        self.columns = columns
        self.user_id = job.created_by
        self.org = org
        by_name = {c.field.name: c for c in columns if c.parent is None}
        self.id_column = by_name.get("Id")
        self.ext: FieldDef | None = None
        if job.operation == "upsert":
            self.ext = obj.field(job.external_id_field or "")
            if self.ext is None or self.ext.name not in by_name:
                raise JobFailed(f"InvalidBatch : Field name not found : "
                                f"{job.external_id_field}")
        elif job.operation != "insert" and self.id_column is None:
            raise JobFailed("InvalidBatch : Field name not found : Id")
        self._parents: dict[tuple[str, str], str] = {}

    def body(self, cells: list[str]) -> dict[str, object]:
        out: dict[str, object] = {}
        for c in self.columns:
            value = cells[c.index]
            if value == "":
                continue
            if c.parent is not None and c.parent_key is not None:
                out[c.field.name] = None if value == NULL else self._parent_id(c, value)
            else:
                out[c.field.name] = None if value == NULL else value
        return out

    def _parent_id(self, c: Column, value: str) -> str:
        assert c.parent is not None
        assert c.parent_key is not None
        key = (c.field.name, value)
        found = self._parents.get(key)
        if found is None:
            matches = self.store.ids_by_value(c.parent, c.parent_key, value)
            if len(matches) != 1:
                why = "not found" if not matches else "matches more than one record"
                raise RecordFailed(RecordError(
                    "INVALID_FIELD", f"Foreign key external ID: {value} {why} for field "
                    f"{c.parent_key.name} in entity {c.parent.name}", []))
            found = self._parents[key] = matches[0]
        return found

    def op(self, cells: list[str], duplicate: bool) -> Callable[[], RecordResult]:
        def run() -> RecordResult:
            operation = self.job.operation
            body = self.body(cells)
            if self.org.dice.roll(self.org.knobs.lock_rate):
                # parallel Bulk batches meet rows locked by other writers, as Salesforce's do
                raise RecordFailed(RecordError(
                    "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record "
                    "or 1 records", []))
            if operation == "insert":
                return RecordResult(self.store.create(self.obj, body, self.user_id),
                                    created=True)
            if operation == "upsert":
                assert self.ext is not None
                value = body.pop(self.ext.name, None)
                if duplicate:
                    raise RecordFailed(RecordError(
                        "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                        [self.ext.name]))
                try:
                    rid, created = self.store.upsert(self.obj, self.ext, value, body,
                                                     self.user_id)
                except MultipleMatches as many:
                    raise RecordFailed(RecordError(
                        "DUPLICATE_EXTERNAL_ID", f"{self.ext.name}: more than one record "
                        f"found for external id field: {many.record_ids}",
                        [self.ext.name])) from None
                return RecordResult(rid, created=created)
            raw_id = str(body.pop("Id", "") or "")
            norm = ids.normalize(raw_id)
            if norm is None or norm[:3] != self.obj.key_prefix:
                raise RecordFailed(RecordError(
                    "MALFORMED_ID", f"{self.obj.label or self.obj.name} ID: id value of "
                    f"incorrect type: {raw_id}", ["Id"]))
            if operation == "update":
                self.store.update(self.obj, norm, body, self.user_id)
            else:
                self.store.delete(norm, self.user_id, hard=operation == "hardDelete")
            return RecordResult(norm, created=False)
        return run

    def duplicates(self, rows: list[list[str]]) -> list[bool]:
        """Which rows of one chunk repeat an external id another row of the chunk carries."""
        if self.ext is None:
            return [False] * len(rows)
        index = next(c.index for c in self.columns
                     if c.parent is None and c.field.name == self.ext.name)
        fold = (lambda v: v) if self.ext.case_sensitive else str.lower
        keys = [fold(r[index]) if r[index] not in ("", NULL) else None for r in rows]
        seen: dict[str, int] = {}
        for k in keys:
            if k is not None:
                seen[k] = seen.get(k, 0) + 1
        return [k is not None and seen[k] > 1 for k in keys]


def process_ingest(org: Org, job: Job, *, counts_batches: bool = True) -> None:
    """Run an ingest job that has reached UploadComplete to JobComplete (or Failed).

    Under the org's profile the job first waits in the queue (still UploadComplete), then
    each batch takes its modelled time before its records count as processed, so a client
    polling sees ``numberRecordsProcessed`` grow batch by batch. The upload is read a batch
    at a time and each batch's results written out before the next is read.
    ``counts_batches``: the job's batches count against the org's daily Bulk batches (a
    Bulk API 1.0 batch run this way was counted as it was added).
    """
    pace, profile = org.pace, org.knobs.profile
    if not pace.sleep(pace.draw(profile.bulk_queue)):
        return  # the org closed
    started = time.perf_counter()
    with job.lock:
        if job.state == ABORTED:
            return
        job.state = IN_PROGRESS
    job.modstamp = org.store.stamp()
    try:
        obj = org.schema.get(job.sobject)
        assert obj is not None
        header, total = scan_csv(job)
        job.header = header
        if counts_batches:  # against the day's Bulk batches, as processing starts
            org.bulk_tally.ingested(total)
        writer = RowWriter(org, job, obj, resolve_columns(org, obj, header)) if header else None
    except JobFailed as failed:
        job.error_message = str(failed)
        _finish(org, job, FAILED, started)
        return
    results = Results(job)
    rows = upload_rows(job)
    next(rows, None)  # the header
    try:
        _write_batches(org, job, writer, rows, total, results, started)
    finally:
        rows.close()
        results.close()
        job.upload = None  # the results keep the cells they need
        if job.files is not None:
            job.files.path(UPLOAD).unlink(missing_ok=True)


def _write_batches(org: Org, job: Job, writer: RowWriter | None, rows: Iterator[list[str]],
                   total: int, results: Results, started: float) -> None:
    pace, profile = org.pace, org.knobs.profile
    # the bulk_fail_after knob: the job fails part way, as a Salesforce job does whose
    # internal batches run out of retries; what was processed stays written
    limit = org.knobs.bulk_fail_after
    stop_at = total if limit is None else min(max(limit, 0), total)
    size = profile.bulk_batch_records or CHUNK
    done = 0
    while done < stop_at:
        chunk = list(islice(rows, min(size, stop_at - done)))
        if job.state == ABORTED or writer is None:
            results.unprocessed(chain(chunk, rows))
            break
        done_at = pace.now() + pace.bulk_seconds(len(chunk), profile.bulk_ingest_per_second)
        ops = [writer.op(r, d) for r, d in zip(chunk, writer.duplicates(chunk), strict=True)]
        outcome = org.store.run_batch(ops)
        if not pace.sleep_until(done_at):
            return
        batch = [IngestOutcome(r.id, bool(r.created),
                               format_error(r.errors[0]) if r.errors else None, cells)
                 for cells, r in zip(chunk, outcome, strict=True)]
        # a batch's counts move together, as Salesforce reports them: a poll never sees
        # part of a batch
        results.add(batch)
        job.processed += len(batch)
        job.failed += sum(1 for o in batch if o.error is not None)
        done += len(chunk)
    else:
        if stop_at < total and job.state != ABORTED:
            results.unprocessed(rows)
            job.error_message = (f"InternalServerError : the job failed after processing "
                                 f"{stop_at} of {total} records")
            _finish(org, job, FAILED, started)
            return
    _finish(org, job, ABORTED if job.state == ABORTED else JOB_COMPLETE, started)


def _finish(org: Org, job: Job, state: str, started: float) -> None:
    job.processing_ms = int((time.perf_counter() - started) * 1000)
    job.modstamp = org.store.stamp()
    job.state = state
