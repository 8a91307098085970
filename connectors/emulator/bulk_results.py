"""An ingest job's results: written batch by batch as the job runs, served from where they are.

``successfulResults``, ``failedResults`` and ``unprocessedrecords`` answer CSV in the job's
delimiter and line ending, every cell quoted, as Salesforce writes them. A job with files
(every Bulk API 2.0 job) renders each batch's rows into its results files as the batch
completes, so serving them is copying a file; a Bulk API 1.0 batch (at most 10,000 rows)
keeps its outcomes in memory and renders them on request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from connectors.emulator.bulk_files import (
    FAILED_ROWS,
    SUCCESSFUL,
    UNPROCESSED,
    CsvSink,
    JobFailed,
    scan_csv,
    upload_rows,
)
from connectors.emulator.bulk_jobs import IngestOutcome, Job

RENDER_ROWS = 10_000  # rows rendered at a time when unprocessed rows are written or served
Body = str | Path | Iterator[str]  # a results resource: text, a file, or text piece by piece


class Results:
    """Where a running ingest job puts each batch's outcomes and the rows it never reached."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._ok: CsvSink | None = None
        self._bad: CsvSink | None = None
        if job.files is not None:
            self._ok = CsvSink(job.files.path(SUCCESSFUL), ["sf__Id", "sf__Created",
                                                           *job.header],
                               job.delimiter, job.newline)
            self._bad = CsvSink(job.files.path(FAILED_ROWS), ["sf__Id", "sf__Error",
                                                             *job.header],
                                job.delimiter, job.newline)

    def add(self, batch: list[IngestOutcome]) -> None:
        if self._ok is None or self._bad is None:
            self.job.outcomes.extend(batch)
            return
        self._ok.write([o.record_id or "", "true" if o.created else "false", *o.cells]
                       for o in batch if o.error is None)
        self._bad.write([o.record_id or "", o.error, *o.cells]
                        for o in batch if o.error is not None)

    def unprocessed(self, rows: Iterable[list[str]]) -> None:
        job = self.job
        if job.files is None:
            job.unprocessed.extend(rows)
            return
        sink = CsvSink(job.files.path(UNPROCESSED), job.header, job.delimiter, job.newline)
        try:
            it = iter(rows)
            while block := list(islice(it, RENDER_ROWS)):
                sink.write(block)
        finally:
            sink.close()

    def close(self) -> None:
        for sink in (self._ok, self._bad):
            if sink is not None:
                sink.close()


def _render(job: Job, header: list[str], rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=job.delimiter, lineterminator=job.newline,
                   quoting=csv.QUOTE_ALL)
    if header:
        w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def successful_body(job: Job) -> Body:
    if job.files is not None and job.files.exists(SUCCESSFUL):
        return job.files.dir / SUCCESSFUL
    return _render(job, ["sf__Id", "sf__Created", *job.header],
                   ([o.record_id or "", "true" if o.created else "false", *o.cells]
                    for o in job.outcomes if o.error is None))


def failed_body(job: Job) -> Body:
    if job.files is not None and job.files.exists(FAILED_ROWS):
        return job.files.dir / FAILED_ROWS
    return _render(job, ["sf__Id", "sf__Error", *job.header],
                   ([o.record_id or "", o.error or "", *o.cells]
                    for o in job.outcomes if o.error is not None))


def unprocessed_body(job: Job) -> Body:
    """The rows the job never reached; every row of a job that never started."""
    if job.files is not None and job.files.exists(UNPROCESSED):
        return job.files.dir / UNPROCESSED
    if job.header or not job.uploaded:
        return _render(job, job.header, job.unprocessed)
    try:
        scan_csv(job)
    except JobFailed:
        return ""
    return _pieces(job, upload_rows(job))


def _pieces(job: Job, rows: Iterator[list[str]]) -> Iterator[str]:
    header = next(rows, [])
    yield _render(job, header, [])
    while block := list(islice(rows, RENDER_ROWS)):
        yield _render(job, [], block)
