"""Where a Bulk API 2.0 job keeps its data: files in the org's directory, not the process.

Salesforce keeps a job's upload and results on its servers' disks for days; a backfill sends
one job of ten million rows. So does the local org: the upload is written to a file as it
arrives, processing reads it back in batches and writes each batch's results to CSV files
rendered as the results resources answer them, and a query job's rows are pickled in chunks
with an index of where each chunk starts. Memory holds a batch or a page, whatever the job's
size; deleting the job deletes its directory.
"""

from __future__ import annotations

import bisect
import csv
import io
import pickle
import random
import shutil
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.emulator.bulk_jobs import Job

UPLOAD, UPLOAD_PART = "upload.csv", "upload.part"
SUCCESSFUL, FAILED_ROWS, UNPROCESSED = "successful.csv", "failed.csv", "unprocessed.csv"
QUERY_ROWS = "rows.pickle"
READ_BLOCK = 1 << 20


class JobFailed(Exception):
    """The whole job fails (a bad header, unreadable CSV): ``errorMessage`` says why."""


class JobFiles:
    """One job's directory: made on first write, removed with the job."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def path(self, name: str) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / name

    def exists(self, name: str) -> bool:
        return (self.dir / name).exists()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def stream_file(path: Path) -> Iterator[bytes]:
    """The file's bytes as they are now, block by block (a job still writing it may add
    more: a response never sends more than the size it started with)."""
    with path.open("rb") as handle:
        left = path.stat().st_size
        while left > 0:
            block = handle.read(min(READ_BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block


class CsvSink:
    """A results file written batch by batch; each batch is flushed whole, so a client
    reading the results while the job runs sees complete rows only."""

    def __init__(self, path: Path, header: list[str], delimiter: str, newline: str) -> None:
        self._handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle, delimiter=delimiter, lineterminator=newline,
                                  quoting=csv.QUOTE_ALL)
        self._writer.writerow(header)
        self._handle.flush()

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        self._writer.writerows(rows)
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class RowSpool:
    """A query job's rows on disk: pickled chunks and, per chunk, (first row, offset, count).

    Without ORDER BY, Salesforce's parallel chunks return rows in no particular order: the
    spool shuffles rows within a chunk and the order the chunks are read in.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index: list[tuple[int, int, int]] = []
        self._firsts: list[int] = []
        self.count = 0

    def write(self, chunks: Iterable[list[Any]], shuffle: random.Random | None) -> int:
        placed: list[tuple[int, int]] = []  # (offset, count) in the order written
        with self.path.open("wb") as out:
            for chunk in chunks:
                if not chunk:
                    continue
                if shuffle is not None:
                    shuffle.shuffle(chunk)
                placed.append((out.tell(), len(chunk)))
                pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
        if shuffle is not None:
            shuffle.shuffle(placed)
        first = 0
        for offset, count in placed:
            self.index.append((first, offset, count))
            first += count
        self._firsts = [f for f, _, _ in self.index]
        self.count = first
        return first

    def blocks(self, start: int, count: int) -> Iterator[list[Any]]:
        """Rows ``start`` to ``start + count`` (fewer at the end), a chunk at a time."""
        at = bisect.bisect_right(self._firsts, start) - 1
        if at < 0:
            return
        with self.path.open("rb") as handle:
            while at < len(self.index) and count > 0:
                first, offset, _ = self.index[at]
                handle.seek(offset)
                chunk = pickle.load(handle)  # noqa: S301 - the org wrote this file itself
                block = chunk[max(0, start - first):][:count]
                del chunk
                count -= len(block)
                yield block
                at += 1


def upload_rows(job: Job) -> Generator[list[str]]:
    """The non-empty rows of the job's upload, header first, read as they are needed."""
    try:
        if job.files is not None:
            with job.files.path(UPLOAD).open(encoding="utf-8-sig", newline="") as handle:
                yield from (r for r in csv.reader(handle, delimiter=job.delimiter) if r)
            return
        text = (job.upload or b"").decode("utf-8-sig")
        yield from (r for r in csv.reader(io.StringIO(text, newline=""),
                                          delimiter=job.delimiter) if r)
    except UnicodeDecodeError:
        raise JobFailed("InvalidBatch : the CSV data is not valid UTF-8") from None


def scan_csv(job: Job) -> tuple[list[str], int]:
    """The header of the job's upload and how many rows follow it; a row of the wrong width
    fails the job before any is written, as Salesforce checks the CSV first."""
    rows = upload_rows(job)
    header = next(rows, None)
    if header is None:
        return [], 0
    width, count = len(header), 0
    for count, row in enumerate(rows, start=1):
        if len(row) != width:
            raise JobFailed(f"ClientInputError : Wrong number of columns in row {count + 1}: "
                            f"expected {width}, found {len(row)}")
    return header, count
