"""One object's Bulk CSV, built in the same read of a spool as the stage's other objects.

A spooled push reads its spool once per stage: loading a batch's decisions is most of what
a read of the spool costs, and a read per object, plus one more for the columns alone, made
it the run's largest cost. Yet a Bulk CSV's header comes first and names every column of
every record. Columns are taken in order of first appearance, so they only ever grow at the
end: each record's line is encoded once, against the columns known when it is seen, and
kept with its count of cells in a file beside the spool; once the read is done each line is
padded with empty cells (a field left as it is) to the header's width. The bytes uploaded
are those a header-first build would make (:func:`connectors.salesforce.bulk_csv._rows`).
"""

from __future__ import annotations

import csv
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from connectors.salesforce.bulk_csv import _header
from connectors.salesforce.values import BULK_NULL, csv_cell
from sync.cycle.diff import RecordChange

_LINE = struct.Struct(">II")  # cells in the line, bytes in the line


class _Line:
    """A file for :mod:`csv` that keeps the one line ``writerow`` hands it."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


class ObjectCsv:
    """The records of one object, each line encoded once into a file at ``path``."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.columns: dict[str, int] = {key: 0}  # name -> its cell's place
        self.count = 0
        self._file: BinaryIO = path.open("w+b")
        self._line = _Line()
        self._writer = csv.writer(self._line, lineterminator="\n")

    def add(self, change: RecordChange) -> None:
        """One record's line: its key, then its fields' cells where their columns are."""
        columns = self.columns
        for name in change.fields:
            if name not in columns:
                columns[name] = len(columns)
        cells = [""] * len(columns)
        for name, value in change.fields.items():
            # most cells are text: csv_cell's first case, without the call
            cells[columns[name]] = ((value.strip() or BULK_NULL) if type(value) is str
                                    else csv_cell(value))
        cells[0] = csv_cell(change.key)  # the key is the record's, whatever its fields say
        self._writer.writerow(cells)
        line = self._line.text.encode()
        self._file.write(_LINE.pack(len(cells), len(line)) + line)
        self.count += 1

    def parts(self, out: BinaryIO, max_bytes: int) -> Iterator[int]:
        """Fill ``out`` with the header and then lines up to ``max_bytes``; yield the
        records in it each time it is full (the caller uploads it), and at the end."""
        width = len(self.columns)
        header = _header(list(self.columns))
        f = self._file
        f.flush()
        f.seek(0)
        out.seek(0)
        out.truncate()
        size, count = out.write(header), 0
        while head := f.read(_LINE.size):
            cells, length = _LINE.unpack(head)
            line = f.read(length)
            if cells < width:  # empty cells to the header's width: ",," before the newline
                line = line[:-1] + b"," * (width - cells) + b"\n"
            if count and size + len(line) > max_bytes:
                yield count
                out.seek(0)
                out.truncate()
                size, count = out.write(header), 0
            size += out.write(line)
            count += 1
        if count:
            yield count

    def close(self) -> None:
        """Close and delete the file."""
        self._file.close()
        self.path.unlink(missing_ok=True)
