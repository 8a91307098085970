"""Bulk API 2.0: writes and reads too large for REST, in a handful of calls per job.

Above ``SF_BULK_THRESHOLD`` records (Salesforce advises 2,000) a Collections write costs one
call per 200 records; a Bulk ingest job costs a constant handful — create, upload, close, a few
polls, three result downloads — whatever the size. Results come back per record and are
matched to the input by external id, so the caller gets the same per-record outcomes as from
Collections. A Bulk query pages its CSV results by ``Sforce-Locator``.

CSV conventions: ``None`` is written as ``#N/A`` (Bulk's "set to null"), booleans as
``true``/``false``, dates and datetimes in ISO 8601. Rows read by :func:`query` are strings as
the CSV gives them, with empty cells as ``None``; relationship fields keep dotted names
(``Account.Name``). Bulk calls go through the same transport, so they are budgeted, counted,
retried and re-authenticated (a 401 mid-job logs in again) like every REST call.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import structlog

from config.errors import FatalError, MapsyncError
from connectors.salesforce.errors import RecordError
from connectors.salesforce.results import RecordResult
from connectors.salesforce.transport import Transport
from connectors.salesforce.values import csv_cell

log = structlog.get_logger(__name__)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # Salesforce allows 150 MB of CSV per job
DONE_STATES = frozenset({"JobComplete"})
FAILED_STATES = frozenset({"Failed", "Aborted"})
CSV_ACCEPT = {"Accept": "text/csv"}


def to_csv(records: Sequence[dict[str, Any]], columns: list[str]) -> str:
    """``records`` as one CSV text with LF line endings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([csv_cell(record[c]) if c in record else "" for c in columns])
    return out.getvalue()


def _columns(records: Sequence[dict[str, Any]], first: str) -> list[str]:
    columns = {first: None}
    for record in records:
        columns.update(dict.fromkeys(record))
    return list(columns)


def _parts(records: Sequence[dict[str, Any]], columns: list[str],
           max_bytes: int) -> Iterator[Sequence[dict[str, Any]]]:
    """Runs of records whose CSV fits one upload."""
    start, size = 0, len(",".join(columns)) + 1
    for n, record in enumerate(records):
        row = len(to_csv([record], columns).encode()) - size
        if n > start and size + row > max_bytes:
            yield records[start:n]
            start, size = n, len(",".join(columns)) + 1
        size += row
    if start < len(records):
        yield records[start:]


class BulkJobs:
    """Bulk API 2.0 jobs over one transport; polling sleeps through the retry policy."""

    def __init__(self, transport: Transport, poll_seconds: float, timeout_seconds: float = 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.transport = transport
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self._clock = clock

    # --- ingest --------------------------------------------------------------------------

    def upsert(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]],
               max_bytes: int = MAX_UPLOAD_BYTES) -> list[RecordResult]:
        """Upsert by external id through ingest jobs; one result per record, in input order."""
        for record in records:
            if external_id_field not in record:
                raise ValueError(f"every record needs {external_id_field} to be upserted")
        if not records:
            return []
        columns = _columns(records, external_id_field)
        results: list[RecordResult] = []
        for part in _parts(records, columns, max_bytes):
            results.extend(self._ingest(sobject, external_id_field, part, columns))
        return results

    def update(self, sobject: str, records: Sequence[dict[str, Any]],
               max_bytes: int = MAX_UPLOAD_BYTES) -> list[RecordResult]:
        """Update records by ``Id`` through ingest jobs; one result per record, in input
        order, matched by Id."""
        for record in records:
            if not record.get("Id"):
                raise ValueError("every record needs its Id to be updated")
        if not records:
            return []
        columns = _columns(records, "Id")
        results: list[RecordResult] = []
        for part in _parts(records, columns, max_bytes):
            results.extend(self._ingest(sobject, "Id", part, columns, operation="update"))
        return results

    def _ingest(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]],
                columns: list[str], operation: str = "upsert") -> list[RecordResult]:
        t = self.transport
        spec = {"object": sobject, "contentType": "CSV", "operation": operation,
                "lineEnding": "LF", "columnDelimiter": "COMMA"}
        if operation == "upsert":
            spec["externalIdFieldName"] = external_id_field
        job = t.request("POST", "jobs/ingest",
                        context=f"create bulk {operation} job for {sobject}",
                        json=spec).json()
        job_id = str(job["id"])
        try:
            t.request("PUT", f"jobs/ingest/{job_id}/batches",
                      context=f"upload bulk job {job_id}",
                      data=to_csv(records, columns).encode(),
                      headers={"Content-Type": "text/csv"})
            t.request("PATCH", f"jobs/ingest/{job_id}", context=f"close bulk job {job_id}",
                      json={"state": "UploadComplete"})
        except MapsyncError:
            self._abort(job_id)
            raise
        info = self._wait(f"jobs/ingest/{job_id}", partial_ok=True)
        failed_job = None
        if info.get("state") == "Failed":
            # processed rows are written and keep their results; the rest never ran
            failed_job = str(info.get("errorMessage") or "no message")
            log.warning("salesforce.bulk.job_failed", sobject=sobject, job_id=job_id,
                        processed=info.get("numberRecordsProcessed"), error=failed_job)
        outcome = self._results(job_id, external_id_field, records, info, failed_job)
        log.info(f"salesforce.bulk.{operation}", sobject=sobject, job_id=job_id,
                 records=len(records), processed=info.get("numberRecordsProcessed"),
                 failed=info.get("numberRecordsFailed"))
        return outcome

    def _results(self, job_id: str, key: str, records: Sequence[dict[str, Any]],
                 info: dict[str, Any] | None = None,
                 failed_job: str | None = None) -> list[RecordResult]:
        """Per-record results. Result sets the job's counts say are empty are not fetched:
        each fetch is an API call. ``failed_job`` (the message of a job that ended Failed
        part way) makes its unprocessed records failures, not retryable: the job's failure
        is for a person to look at, as the dead letters they become."""
        info = info or {}
        processed = info.get("numberRecordsProcessed")
        failed = info.get("numberRecordsFailed")
        fetch_failed = failed is None or int(failed) > 0
        fetch_unprocessed = processed is None or int(processed) < len(records)
        by_key: dict[str | None, list[RecordResult]] = {}

        def rows(kind: str) -> list[dict[str, str]]:
            text = self.transport.request("GET", f"jobs/ingest/{job_id}/{kind}/",
                                          headers=CSV_ACCEPT,
                                          context=f"{kind} of bulk job {job_id}").text
            return list(csv.DictReader(io.StringIO(text)))

        for row in rows("successfulResults"):
            by_key.setdefault(row.get(key), []).append(RecordResult(
                external_id=row.get(key), id=row.get("sf__Id") or None, success=True,
                created=row.get("sf__Created", "").lower() == "true"))
        for row in rows("failedResults") if fetch_failed else ():
            by_key.setdefault(row.get(key), []).append(RecordResult.failed(
                row.get(key), [parse_bulk_error(row.get("sf__Error", ""))],
                id=row.get("sf__Id") or None))
        def never_ran(value: str | None, why: str) -> RecordResult:
            if failed_job is None:
                return _unprocessed(value, why)
            return RecordResult.failed(value, [RecordError(
                "BULK_JOB_FAILED", f"the Bulk job {job_id} failed before this record was "
                f"processed: {failed_job}")])

        for row in rows("unprocessedrecords") if fetch_unprocessed else ():
            by_key.setdefault(row.get(key), []).append(never_ran(
                row.get(key), "the Bulk job ended before this record was processed"))
        out: list[RecordResult] = []
        for record in records:
            value = None if record[key] is None else csv_cell(record[key])
            found = by_key.get(value)
            out.append(found.pop(0) if found else never_ran(
                value, "missing from the Bulk job's results"))
        return out

    def _abort(self, job_id: str) -> None:
        """Abort a job whose upload failed, so no half-uploaded job lingers (best effort)."""
        try:
            self.transport.send_once("PATCH", f"jobs/ingest/{job_id}",
                                     context=f"abort bulk job {job_id}",
                                     json={"state": "Aborted"})
        except MapsyncError as err:
            log.warning("salesforce.bulk.abort_failed", job_id=job_id, error=str(err))

    # --- query ---------------------------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool = False,
              max_records: int = 50_000) -> Iterator[dict[str, str | None]]:
        """Rows of ``soql`` from a query job, page by page (``Sforce-Locator``), lazily."""
        t = self.transport
        operation = "queryAll" if include_deleted else "query"
        job = t.request("POST", "jobs/query", context="create bulk query job",
                        json={"operation": operation, "query": soql,
                              "contentType": "CSV", "lineEnding": "LF"}).json()
        job_id = str(job["id"])
        self._wait(f"jobs/query/{job_id}")
        locator: str | None = None
        while True:
            params = {"maxRecords": str(max_records)}
            if locator:
                params["locator"] = locator
            response = t.request("GET", f"jobs/query/{job_id}/results", params=params,
                                 headers=CSV_ACCEPT, context=f"results of bulk query {job_id}")
            for row in csv.DictReader(io.StringIO(response.text)):
                yield {k: (v if v != "" else None) for k, v in row.items()}
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    # --- polling -------------------------------------------------------------------------

    def _wait(self, path: str, partial_ok: bool = False) -> dict[str, Any]:
        """Poll a job until it completes, waiting ``poll_seconds`` first and half as long
        again after each poll (at most 30 s): a long job costs few calls. A failed job is
        fatal, except with ``partial_ok`` one that failed after processing some records:
        its per-record results say what landed."""
        deadline = self._clock() + self.timeout_seconds
        wait = self.poll_seconds
        while True:
            self.transport.policy.sleep(wait)
            wait = min(wait * 1.5, max(self.poll_seconds, 30.0))
            info: dict[str, Any] = self.transport.request("GET", path,
                                                          context=f"poll {path}").json()
            state = str(info.get("state"))
            if state in DONE_STATES:
                return info
            if (partial_ok and state == "Failed"
                    and int(info.get("numberRecordsProcessed") or 0) > 0):
                return info
            if state in FAILED_STATES:
                raise FatalError(f"Bulk job {info.get('id')} ended {state}: "
                                 f"{info.get('errorMessage') or 'no message'}",
                                 error_code=f"BULK_JOB_{state.upper()}")
            if self._clock() > deadline:
                raise FatalError(f"Bulk job {info.get('id')} still {state} after "
                                 f"{self.timeout_seconds:.0f} s", error_code="BULK_JOB_TIMEOUT")


def _unprocessed(external_id: str | None, why: str) -> RecordResult:
    """A record the job never processed: nothing was written, so sending it again is safe."""
    return RecordResult(external_id=external_id, id=None, success=False,
                        errors=[RecordError("UNPROCESSED", why)], outcome="retryable")


def parse_bulk_error(text: str) -> RecordError:
    """``CODE:message:fields --`` as Bulk writes ``sf__Error``."""
    code, _, rest = text.partition(":")
    message = rest.rstrip(" -")
    fields: list[str] = []
    head, sep, tail = message.rpartition(":")
    if sep and tail and all(part.strip().replace("_", "").isalnum()
                            for part in tail.split(",")):
        message, fields = head, [p.strip() for p in tail.split(",")]
    return RecordError(code.strip() or "UNKNOWN_ERROR", message.strip(), fields)
