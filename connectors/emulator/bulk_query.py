"""Bulk API 2.0 query jobs: SOQL run by the org's engine, answered as CSV pages.

A query job reuses the REST query's compiler (so a query fails the same way in both), runs it
once when the job starts (the snapshot every page is cut from, as Salesforce's locator is),
and renders pages as Salesforce writes them: every cell quoted, null as an empty cell,
booleans ``true``/``false``, dates and datetimes in Salesforce's text form, parent fields as
dotted columns (``Account.Name``). ``Sforce-Locator`` is an opaque base64 offset, ``null``
on the last page.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from connectors.emulator.bulk_files import QUERY_ROWS, RowSpool
from connectors.emulator.bulk_jobs import ABORTED, FAILED, IN_PROGRESS, JOB_COMPLETE, Job
from connectors.emulator.errors import ApiError
from connectors.emulator.org import Org
from connectors.emulator.soql import CompiledQuery, SoqlError, compile_query, parse
from connectors.emulator.soql.records import RecordPlan

# when a client names no maxRecords, Salesforce fills a page up to its size budget
DEFAULT_PAGE = 50_000
SPOOL_ROWS = 5_000  # rows read from the cursor, shuffled and written to disk at a time
Cell = Callable[[Any], str]


_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
# what Bulk API 2.0 query documents it does not support, outside string literals
_UNSUPPORTED = [
    (re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE), "GROUP BY"),
    (re.compile(r"\bOFFSET\b", re.IGNORECASE), "OFFSET"),
    (re.compile(r"\bTYPEOF\b", re.IGNORECASE), "TYPEOF"),
    (re.compile(r"\(\s*SELECT\b", re.IGNORECASE), "Parent-to-child relationship queries"),
    (re.compile(r"\b(?:COUNT|COUNT_DISTINCT|SUM|AVG|MIN|MAX)\s*\(", re.IGNORECASE),
     "Aggregate functions"),
]


_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)


def unsupported_by_bulk(text: str) -> str | None:
    """What in ``text`` Bulk API 2.0 query refuses (GROUP BY, OFFSET, TYPEOF, aggregate
    functions, parent-to-child subqueries), or None."""
    bare = _STRING.sub("''", text)
    return next((what for pattern, what in _UNSUPPORTED if pattern.search(bare)), None)


def compile_job_query(org: Org, text: str, include_deleted: bool,
                      api_version: str, user_id: str) -> CompiledQuery:
    """The compiled query of a new job, as ``user_id`` may see it; a query the org refuses
    fails the job's creation."""
    refused = unsupported_by_bulk(text)
    if refused is not None:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : {refused} "
                       f"{'are' if refused.endswith('s') else 'is'} not supported by Bulk "
                       "API 2.0 query jobs")
    try:
        compiled = compile_query(parse(text), org.access.schema_for(user_id),
                                 include_deleted=include_deleted, now=org.now(),
                                 api_version=api_version,
                                 row_filter=org.access.row_filter_of(user_id))
    except SoqlError as err:
        raise ApiError(400, err.error_code, err.message) from None
    return compiled


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _boolean(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return str(value)


def _any(value: Any) -> str:
    """An ``anyType`` cell (stored as JSON): rendered as a value of its own type would be."""
    if value is None:
        return ""
    decoded = orjson.loads(value)
    if isinstance(decoded, bool):
        return _boolean(decoded)
    if isinstance(decoded, int | float):
        return _number(decoded)
    return _text(decoded)


def csv_columns(plan: RecordPlan, prefix: str = "") -> list[tuple[str, int, Cell]]:
    """(column name, row index, cell renderer) for every selected field, parents dotted."""
    out: list[tuple[str, int, Cell]] = []
    for key, index, convert, nested in plan.entries:
        if nested is not None:
            out += csv_columns(nested, f"{prefix}{key}.")
        elif convert is bool:
            out.append((prefix + key, index, _boolean))
        elif convert in (int, float):
            out.append((prefix + key, index, _number))
        elif convert is orjson.loads:
            out.append((prefix + key, index, _any))
        else:
            out.append((prefix + key, index, _text))
    return out


def run_query(org: Org, job: Job, compiled: CompiledQuery) -> None:
    """Run a query job to JobComplete, keeping its rows for the result pages.

    Under the org's profile the job waits in the queue (UploadComplete), then stays
    InProgress for a time proportional to the rows it returns.
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
    if job.operation == "queryAll":
        org.empty_recycle_bin(compiled.sobject)
    # Bulk query jobs are split into chunks processed in parallel: without ORDER BY
    # (which Salesforce advises against) rows come back in no particular order
    ordered = bool(_ORDER_BY.search(_STRING.sub("''", job.query or "")))
    try:
        count = _keep_rows(org, job, compiled, None if ordered else random.Random(job.id))
    except Exception as exc:  # the job reports any failure of its query as Failed
        job.error_message = f"InvalidBatch : Failed to process query: {exc}"
        job.state = FAILED
        return
    if not pace.sleep(pace.bulk_seconds(count, profile.bulk_query_per_second)):
        return
    assert compiled.plan is not None
    job.query_columns = csv_columns(compiled.plan)
    job.processed = count
    job.processing_ms = int((time.perf_counter() - started) * 1000)
    job.modstamp = org.store.stamp()
    if job.state != ABORTED:
        job.state = JOB_COMPLETE


def _keep_rows(org: Org, job: Job, compiled: CompiledQuery,
               shuffle: random.Random | None) -> int:
    """Run the query once and keep its rows: in the job's file (read a chunk at a time from
    the cursor), or in memory for a job without files. Returns how many rows it returned."""
    with org.store.lock:
        cursor = org.store.conn.execute(compiled.sql, compiled.params)
        if job.files is None:
            rows = cursor.fetchall()
            if shuffle is not None:
                rows = list(rows)
                shuffle.shuffle(rows)
            job.query_rows = rows
            return len(rows)
        spool = RowSpool(job.files.path(QUERY_ROWS))
        count = spool.write(iter(lambda: cursor.fetchmany(SPOOL_ROWS), []), shuffle)
    job.spool = spool
    return count


def encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def decode_locator(locator: str) -> int:
    try:
        text = base64.b64decode(locator.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.isdigit():
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    return int(text)


def page_count(job: Job, offset: int, max_records: int) -> int:
    """How many rows the page at ``offset`` holds."""
    return max(0, min(max_records, job.processed - offset))


def next_locator(job: Job, offset: int, count: int) -> str:
    end = offset + count
    return encode_locator(end) if end < job.processed else "null"


def page_pieces(job: Job, offset: int, count: int) -> Iterator[str]:
    """The CSV text of ``count`` rows from ``offset``, header first, a block at a time."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=job.delimiter, lineterminator=job.newline,
                   quoting=csv.QUOTE_ALL)
    columns = job.query_columns
    w.writerow([name for name, _, _ in columns])
    cells = [(index, render) for _, index, render in columns]
    for block in job.query_blocks(offset, count):
        w.writerows([render(row[i]) for i, render in cells] for row in block)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()


def result_page(job: Job, offset: int, max_records: int) -> tuple[str, int, str]:
    """(CSV text, records in it, next locator or ``null``) of the page at ``offset``."""
    count = page_count(job, offset, max_records)
    return "".join(page_pieces(job, offset, count)), count, next_locator(job, offset, count)
