"""The CSV of a Bulk API 2.0 ingest job: each record's line encoded once, parts cut to size.

A large write is split where its CSV would pass the upload limit; the bytes that measure a
part are the bytes uploaded, so no record is turned into CSV twice. Cells follow
:func:`connectors.salesforce.values.csv_cell` (null as ``#N/A``, booleans lower-case). The
job's result rows name each record's errors as Bulk writes them (:func:`parse_bulk_error`).
A query's result page is kept on disk while its rows are read (:func:`page_rows`).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import requests
import structlog

from connectors.salesforce.errors import RecordError, error_from_network
from connectors.salesforce.results import RecordResult
from connectors.salesforce.values import csv_cell

__all__ = ["_columns", "_never_ran", "_parts", "page_rows", "parse_bulk_error", "to_csv"]

PAGE_PIECE = 1 << 16  # bytes downloaded at a time
PAGE_TRIES = 3  # downloads of one result page before its run fails

log = structlog.get_logger(__name__)


def to_csv(records: Sequence[dict[str, Any]], columns: list[str]) -> str:
    """``records`` as one CSV text with LF line endings."""
    return (_header(columns) + b"".join(_rows(records, columns))).decode()


class _Line:
    """A file for :mod:`csv` that keeps the one line ``writerow`` hands it."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def _header(columns: list[str]) -> bytes:
    line = _Line()
    csv.writer(line, lineterminator="\n").writerow(columns)
    return line.text.encode()


def _rows(records: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[bytes]:
    """Each record's CSV line, encoded once: the same bytes size the parts and are uploaded."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\n")
    for record in records:
        writer.writerow([csv_cell(record[c]) if c in record else "" for c in columns])
        yield line.text.encode()


def _columns(records: Sequence[dict[str, Any]], first: str) -> list[str]:
    columns = {first: None}
    for record in records:
        columns.update(dict.fromkeys(record))
    return list(columns)


def _parts(records: Sequence[dict[str, Any]], columns: list[str],
           max_bytes: int) -> Iterator[tuple[Sequence[dict[str, Any]], bytes]]:
    """Runs of records whose CSV fits one upload, each with that upload's bytes."""
    header = _header(columns)
    start, lines, size = 0, [header], len(header)
    for n, row in enumerate(_rows(records, columns)):
        if n > start and size + len(row) > max_bytes:
            yield records[start:n], b"".join(lines)
            start, lines, size = n, [header], len(header)
        lines.append(row)
        size += len(row)
    if start < len(records):
        yield records[start:], b"".join(lines)


def _never_ran(job_id: str, failed_job: str | None, external_id: str | None,
               why: str) -> RecordResult:
    """A record no result set names as processed. Nothing was written, so sending it again
    is safe (retryable) — unless its job failed: then it is for a person to look at."""
    if failed_job is None:
        return RecordResult(external_id=external_id, id=None, success=False,
                            errors=[RecordError("UNPROCESSED", why)], outcome="retryable")
    return RecordResult.failed(external_id, [RecordError(
        "BULK_JOB_FAILED", f"the Bulk job {job_id} failed before this record was processed: "
        f"{failed_job}")])


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


def page_rows(fetch: Callable[[], requests.Response], what: str,
              tries: int = PAGE_TRIES) -> Iterator[dict[str, str | None]]:
    """The rows of one Bulk query result page, empty cells ``None``; ``fetch`` asks for the
    page (streamed), again if the connection drops while it downloads.

    The page is downloaded whole into a temporary file first, then read row by row from
    there: the connection is not held open while the caller works through the rows (a first
    cycle plans between them), and the page is not held in memory, so a page can be as
    large as the calls it saves are worth. A page's locator names the same rows as long as
    the job exists, so a download cut short is asked for again (``tries`` in all) rather
    than failing a run that read every page before it."""
    with tempfile.TemporaryFile() as page:
        for attempt in range(1, tries + 1):
            response = fetch()
            page.seek(0)
            page.truncate()
            try:
                for piece in response.iter_content(PAGE_PIECE):
                    page.write(piece)
                break
            except requests.RequestException as err:
                if attempt == tries:
                    raise error_from_network(err, f"downloading {what}") from None
                log.warning("salesforce.bulk.page_cut_short", what=what, attempt=attempt,
                            error=type(err).__name__)
            finally:
                response.close()
        page.seek(0)
        charset = "charset" in response.headers.get("Content-Type", "")
        text = io.TextIOWrapper(page, newline="", encoding=(
            response.encoding if charset else None) or "utf-8")
        try:
            for row in csv.DictReader(text):
                yield {k: (v if v != "" else None) for k, v in row.items()}
        finally:
            text.detach()  # the file is closed by its own ``with``
