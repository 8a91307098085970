"""Bulk API 2.0: writes and reads too large for REST, in a handful of calls per job.

Above ``SF_BULK_THRESHOLD`` records (Salesforce advises 2,000) a Collections write costs one
call per 200 records; a Bulk ingest job costs a constant handful — create, upload, close, a few
polls, three result downloads — whatever the size. Jobs of different objects can run side by
side (:meth:`BulkJobs.write`): only the largest is polled while it runs, and the wait before
each poll grows from a fraction of a second with the job's age and its processed count.
Results come back per record, read row by row off the wire, and are matched to the input by
external id: the same per-record outcomes as from Collections. A Bulk query pages its CSV by
``Sforce-Locator``, each page read from disk.

CSV: ``None`` is written as ``#N/A`` (Bulk's "set to null"), booleans as ``true``/``false``,
dates and datetimes in ISO 8601. Rows read by :func:`query` are strings as the CSV gives them,
empty cells ``None``, relationship fields dotted (``Account.Name``). Bulk calls go through the
transport: budgeted, counted, retried and re-authenticated (a 401 mid-job logs in again).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO, cast

import requests
import structlog

from config.errors import FatalError, MapsyncError, RecordGoneError
from connectors.salesforce.bulk_csv import _columns, _never_ran, _parts, page_rows, parse_bulk_error
from connectors.salesforce.bulk_polls import (
    FASTEST_RECORDS_PER_SECOND,
    LONGEST_WAIT,
    Poll,
    lead_of,
)
from connectors.salesforce.results import RecordResult
from connectors.salesforce.transport import Transport
from connectors.salesforce.values import csv_cell

log = structlog.get_logger(__name__)

# Salesforce takes at most 150 MB per upload counted after it base64-encodes the CSV (a
# third larger), and advises at most 100 MB of CSV: a job's CSV is split only past that.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_POLL_SECONDS = 10.0  # between polls of a young job (``bulk_polls``: an old one's)
DONE_STATES = frozenset({"JobComplete"})
FAILED_STATES = frozenset({"Failed", "Aborted"})
CSV_ACCEPT = {"Accept": "text/csv"}


@dataclass(frozen=True)
class Ingest:
    """One write of one object: what :meth:`BulkJobs.write` runs as ingest jobs."""

    sobject: str
    key: str  # the external id field (upsert) or ``Id`` (update)
    records: Sequence[dict[str, Any]]
    operation: str = "upsert"


@dataclass
class _Submitted:
    """An ingest job uploaded and closed, waiting for Salesforce to process it."""

    job_id: str
    ingest: Ingest
    records: Sequence[dict[str, Any]]
    info: dict[str, Any] | None = None


class BulkJobs:
    """Bulk API 2.0 jobs over one transport; polling sleeps through the retry policy."""

    def __init__(self, transport: Transport, poll_seconds: float, timeout_seconds: float = 3600,
                 clock: Callable[[], float] = time.monotonic,
                 max_poll_seconds: float = MAX_POLL_SECONDS) -> None:
        self.transport = transport
        self.poll_seconds = poll_seconds
        self.max_poll_seconds = max(max_poll_seconds, poll_seconds)
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        # records per second the last job of each (operation, object) was seen done at
        self._pace: dict[tuple[str, str], float] = {}

    # --- ingest --------------------------------------------------------------------------

    def upsert(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]],
               max_bytes: int = MAX_UPLOAD_BYTES) -> list[RecordResult]:
        """Upsert by external id through ingest jobs; one result per record, in input order."""
        return self.write([Ingest(sobject, external_id_field, records)], max_bytes)[0]

    def update(self, sobject: str, records: Sequence[dict[str, Any]],
               max_bytes: int = MAX_UPLOAD_BYTES) -> list[RecordResult]:
        """Update records by ``Id`` through ingest jobs; one result per record, in input
        order, matched by Id."""
        return self.write([Ingest(sobject, "Id", records, "update")], max_bytes)[0]

    def write(self, ingests: Sequence[Ingest],
              max_bytes: int = MAX_UPLOAD_BYTES) -> list[list[RecordResult]]:
        """Run the ``ingests`` as jobs processed at the same time (Salesforce runs jobs of
        different objects in parallel; the caller keeps apart what must be sequential, a
        child whose parent is new). Per ingest, one result per record in input order."""
        for ingest in ingests:
            for record in ingest.records:
                if not record.get(ingest.key) and (ingest.key == "Id"
                                                   or ingest.key not in record):
                    raise ValueError(f"every record needs {ingest.key} to be "
                                     f"{ingest.operation}d")
        submitted: list[_Submitted] = []
        try:
            for ingest in ingests:
                if not ingest.records:
                    continue
                columns = _columns(ingest.records, ingest.key)
                for part, body in _parts(ingest.records, columns, max_bytes):
                    submitted.append(self._submit(ingest, part, body))
        except MapsyncError:
            for job in submitted:
                self._abort(job.job_id)
            raise
        self._wait_all(submitted)
        out: dict[int, list[RecordResult]] = {id(i): [] for i in ingests}
        for job in submitted:
            out[id(job.ingest)].extend(self._finish(job))
        return [out[id(i)] for i in ingests]

    def _submit(self, ingest: Ingest, records: Sequence[dict[str, Any]],
                body: bytes | BinaryIO) -> _Submitted:
        """Create the job, upload its CSV and close it (three calls)."""
        t = self.transport
        spec = {"object": ingest.sobject, "contentType": "CSV", "operation": ingest.operation,
                "lineEnding": "LF", "columnDelimiter": "COMMA"}
        if ingest.operation == "upsert":
            spec["externalIdFieldName"] = ingest.key
        job = t.request("POST", "jobs/ingest",
                        context=f"create bulk {ingest.operation} job for {ingest.sobject}",
                        json=spec).json()
        job_id = str(job["id"])
        try:
            t.request("PUT", f"jobs/ingest/{job_id}/batches",
                      context=f"upload bulk job {job_id}", data=body,
                      headers={"Content-Type": "text/csv"})
            t.request("PATCH", f"jobs/ingest/{job_id}", context=f"close bulk job {job_id}",
                      json={"state": "UploadComplete"})
        except MapsyncError:
            self._abort(job_id)
            raise
        return _Submitted(job_id, ingest, records)

    def _finish(self, job: _Submitted) -> list[RecordResult]:
        info = job.info or {}
        failed_job = None
        if info.get("state") == "Failed":
            # processed rows are written and keep their results; the rest never ran
            failed_job = str(info.get("errorMessage") or "no message")
            log.warning("salesforce.bulk.job_failed", sobject=job.ingest.sobject,
                        job_id=job.job_id, processed=info.get("numberRecordsProcessed"),
                        error=failed_job)
        outcome = self._results(job.job_id, job.ingest.key, job.records, info, failed_job)
        log.info(f"salesforce.bulk.{job.ingest.operation}", sobject=job.ingest.sobject,
                 job_id=job.job_id, records=len(job.records),
                 processed=info.get("numberRecordsProcessed"),
                 failed=info.get("numberRecordsFailed"))
        return outcome

    def _results(self, job_id: str, key: str, records: Sequence[dict[str, Any]],
                 info: dict[str, Any] | None = None,
                 failed_job: str | None = None) -> list[RecordResult]:
        """Per-record results, in the order of ``records`` (see :meth:`_result_rows`)."""
        by_key: dict[str | None, list[RecordResult]] = {}
        for result in self._result_rows(job_id, key, len(records), info, failed_job):
            by_key.setdefault(result.external_id, []).append(result)
        out: list[RecordResult] = []
        for record in records:
            value = None if record[key] is None else csv_cell(record[key])
            found = by_key.get(value)
            out.append(found.pop(0) if found else _never_ran(
                job_id, failed_job, value, "missing from the Bulk job's results"))
        return out

    def _result_rows(self, job_id: str, key: str, expected: int,
                     info: dict[str, Any] | None = None,
                     failed_job: str | None = None) -> Iterator[RecordResult]:
        """Every result of a job, row by row as the CSV arrives (``expected``: its records
        where known, else 0). Result sets the job's counts say are empty are not fetched:
        each fetch is an API call. ``failed_job`` (the message of a job that ended Failed
        part way) makes its unprocessed records failures, not retryable: the job's failure
        is for a person to look at, as the dead letters they become."""
        info = info or {}
        processed, failed = info.get("numberRecordsProcessed"), info.get("numberRecordsFailed")
        fetch_failed = failed is None or int(failed) > 0
        fetch_unprocessed = processed is None or int(processed) < expected or (
            not expected and failed_job is not None)
        for k, sf_id, created in self._csv_rows(job_id, "successfulResults",
                                                (key, "sf__Id", "sf__Created")):
            yield RecordResult(k, sf_id or None, success=True,
                               created=(created or "").lower() == "true")
        for k, error, sf_id in self._csv_rows(job_id, "failedResults",
                                              (key, "sf__Error", "sf__Id")) \
                if fetch_failed else ():
            yield RecordResult.failed(k, [parse_bulk_error(error or "")], id=sf_id or None)
        for (k,) in self._csv_rows(job_id, "unprocessedrecords", (key,)) \
                if fetch_unprocessed else ():
            yield _never_ran(job_id, failed_job, k,
                             "the Bulk job ended before this record was processed")

    def _csv_rows(self, job_id: str, kind: str,
                  columns: Sequence[str]) -> Iterator[list[str | None]]:
        """One result set, row by row off the wire, as the cells of ``columns`` (``None``
        where it has no such column): each row echoes every uploaded column, so the whole
        text of a run-spanning job's results would not fit in memory, and only the few
        cells read are picked out of each row (a dict of every cell cost more than the
        rest of the row's handling)."""
        response = self.transport.request("GET", f"jobs/ingest/{job_id}/{kind}/",
                                          headers=CSV_ACCEPT,
                                          context=f"{kind} of bulk job {job_id}", stream=True)
        try:
            response.raw.decode_content, response.raw.auto_close = True, False  # TextIOWrapper
            charset = "charset" in response.headers.get("Content-Type", "")
            rows = csv.reader(io.TextIOWrapper(
                cast(BinaryIO, response.raw), newline="",
                encoding=(response.encoding if charset else None) or "utf-8"))
            header = next(rows, None)
            if header is None:
                return
            at = [header.index(c) if c in header else len(header) for c in columns]
            width = len(header)
            for row in rows:
                if not row:  # a blank line is no record
                    continue
                if len(row) < width:  # cells missing at the end: none
                    row = row + [None] * (width - len(row))  # type: ignore[list-item]
                yield [row[i] if i < width else None for i in at]
        finally:
            response.close()

    def _abort(self, job_id: str) -> None:
        """Abort a job whose upload failed, so no half-uploaded job lingers (best effort)."""
        try:
            self.transport.send_once("PATCH", f"jobs/ingest/{job_id}",
                                     context=f"abort bulk job {job_id}",
                                     json={"state": "Aborted"})
        except MapsyncError as err:
            log.warning("salesforce.bulk.abort_failed", job_id=job_id, error=str(err))

    # --- jobs that outlive a process (a backfill's spool) ---------------------------------

    def submit(self, sobject: str, key: str, body: bytes | BinaryIO,
               operation: str = "upsert") -> str:
        """Create, upload and close one job of ready CSV (its header names ``key``): three
        calls. The caller keeps the job id; :meth:`results_into` collects it later."""
        return self._submit(Ingest(sobject, key, (), operation), (), body).job_id

    def results_into(self, jobs: Sequence[tuple[str, str]], sizes: Sequence[int],
                     sink: Callable[[int, Iterator[RecordResult]], None]) -> list[str]:
        """Wait for jobs submitted earlier, by this process or one before it (``(job id, key
        field)`` each, processed side by side), then hand each one's results to ``sink``
        (its index in ``jobs``, its results row by row as they download: a run's results
        are kept on disk, not in memory). ``sizes``: the jobs' records where known (0 not),
        so the first poll comes when the job should be done at the pace jobs were seen done
        before.

        A job that ended Failed, even before processing a record, is collected as any
        other: its records never processed are failures for a person to look at (dead
        letters), not an error that would end every attempt to finish the run. The jobs
        Salesforce no longer has (``404``: it deletes a job 7 days after it ends) are
        returned, unsunk: what they held must be uploaded again."""
        polls = []
        for n, (job_id, _) in enumerate(jobs):
            size = sizes[n] if n < len(sizes) else 0
            first = self._first_wait(self._pace.get(("", "")) if size else None, size)
            polls.append(Poll(f"jobs/ingest/{job_id}", first, size, partial_ok=True,
                              spanning=True))
        self._poll(polls)
        for poll in polls:
            if poll.done_at > 0 and poll.total and not poll.gone:
                self._pace[("", "")] = poll.total / poll.done_at
        gone = []
        for n, ((job_id, key), poll) in enumerate(zip(jobs, polls, strict=True)):
            if poll.gone:
                log.warning("salesforce.bulk.job_gone", job_id=job_id)
                gone.append(job_id)
                continue
            info = poll.info or {}
            failed_job = (str(info.get("errorMessage") or "no message")
                          if info.get("state") == "Failed" else None)
            sink(n, self._result_rows(job_id, key, 0, info, failed_job))
        return gone

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
            what = f"results of bulk query {job_id}"
            found: list[str | None] = [None]  # the next page's locator, as the page says
            # (downloaded whole to disk first, again by its locator if cut short, then read)
            yield from page_rows(partial(self._page, job_id, params, found), what)
            locator = found[0]
            if not locator or locator == "null":
                return

    def _page(self, job_id: str, params: dict[str, str],
              found: list[str | None]) -> requests.Response:
        """One result page of a query job, streamed; its next page's locator into ``found``."""
        response = self.transport.request(
            "GET", f"jobs/query/{job_id}/results", params=params, headers=CSV_ACCEPT,
            context=f"results of bulk query {job_id}", stream=True)
        found[0] = response.headers.get("Sforce-Locator")
        return response

    # --- polling -------------------------------------------------------------------------

    def _wait(self, path: str) -> dict[str, Any]:
        """Poll a query job until it completes (see :meth:`_poll`)."""
        polls = [Poll(path, self.poll_seconds)]
        self._poll(polls)
        assert polls[0].info is not None
        return polls[0].info

    def _wait_all(self, jobs: Sequence[_Submitted]) -> None:
        polls = []
        for j in jobs:
            # A job of an object seen before first waits for most of what its size took
            # then: one or two polls, whatever Salesforce's pace (seen done early, the next
            # waits less; not yet done, the next waits more).
            # (an object not seen yet takes the pace of the last job of any object)
            pace = self._pace.get((j.ingest.operation, j.ingest.sobject),
                                  self._pace.get(("", "")))
            first = self._first_wait(pace, len(j.records))
            polls.append(Poll(f"jobs/ingest/{j.job_id}", first, len(j.records),
                               partial_ok=True))
        self._poll(polls)
        for job, poll in zip(jobs, polls, strict=True):
            job.info = poll.info
            if poll.done_at > 0:
                pace = len(job.records) / poll.done_at
                self._pace[(job.ingest.operation, job.ingest.sobject)] = pace
                self._pace[("", "")] = pace

    def _first_wait(self, pace: float | None, size: int) -> float:
        """Most of what ``size`` records take at ``pace`` (records per second), if known,
        up to ``LONGEST_WAIT``: a job of a first cycle's hundreds of thousands of records is
        polled once or twice, and seen done late only if Salesforce got faster since."""
        if pace is None:  # (none seen yet: no sooner than the fastest a job goes)
            return max(self.poll_seconds, size / FASTEST_RECORDS_PER_SECOND)
        return min(max(self.poll_seconds, 0.8 * size / pace), LONGEST_WAIT)

    def _poll(self, polls: Sequence[Poll]) -> None:
        """Poll jobs until each completes. Each waits its first wait (:meth:`_first_wait`),
        then as :class:`connectors.salesforce.bulk_polls.Poll` schedules: a small job is
        seen done within a fraction of a second, a long one costs few calls.
        Of jobs processed side by side only the lead (:func:`lead_of`: the largest, the one
        the caller waits for anyway) is polled while it runs; once it is done the others are
        polled in the same round, and those still running go on the same way. A failed job
        is fatal, except with ``partial_ok`` one that failed after processing some records:
        its per-record results say what landed."""
        # The schedule runs on the waits asked for (requests take time too, so a job is
        # never polled earlier than planned); the clock only bounds the whole wait.
        deadline = self._clock() + self.timeout_seconds
        pending = list(polls)
        elapsed = 0.0
        while pending:
            lead = lead_of(pending)
            if lead.due > elapsed:
                self.transport.policy.sleep(lead.due - elapsed)
                elapsed = lead.due
            now = self._clock()
            if not self._poll_one(lead, elapsed, now > deadline):
                continue
            pending.remove(lead)
            lead.done(elapsed)
            # (the others' done_at stays 0: seen done at the lead's end, when is not known)
            for poll in list(pending):
                if self._poll_one(poll, elapsed, now > deadline):
                    pending.remove(poll)

    def _poll_one(self, poll: Poll, elapsed: float, late: bool) -> bool:
        """One poll of one job: whether it is done (its info kept), else its next wait."""
        try:
            info: dict[str, Any] = self.transport.request(
                "GET", poll.path, context=f"poll {poll.path}").json()
        except RecordGoneError:
            if not poll.spanning:
                raise
            poll.gone = True
            return True
        state = str(info.get("state"))
        if state in DONE_STATES or (
                poll.partial_ok and state == "Failed"
                and (poll.spanning or int(info.get("numberRecordsProcessed") or 0) > 0)):
            poll.info = info
            return True
        if state in FAILED_STATES:
            raise FatalError(f"Bulk job {info.get('id')} ended {state}: "
                             f"{info.get('errorMessage') or 'no message'}",
                             error_code=f"BULK_JOB_{state.upper()}")
        if late:
            raise FatalError(f"Bulk job {info.get('id')} still {state} after "
                             f"{self.timeout_seconds:.0f} s", error_code="BULK_JOB_TIMEOUT")
        poll.next(elapsed, int(info.get("numberRecordsProcessed") or 0),
                  self.poll_seconds, self.max_poll_seconds)
        return False
