"""A backfill's spool: each batch's decisions on disk until one Bulk job per object writes them.

A day-one backfill (an org without plans) decides batch by batch as ever, but pushing each
batch on its own costs the same Bulk job calls 25 times over for 100,000 Opportunities. So
each batch's :class:`~sync.cycle.decide.Decisions` are appended to a file instead, and its
length after the batch is checkpointed with the batch's cursor: killed mid-batch, a resume
cuts the file back to the checkpointed length and continues from the cursor. The file is
written and read only by this process and its resumes (it lives in the backfill's own
directory), which is why plain pickles serve. Beside it, :attr:`Spool.tables` keeps what the
run reads once for all batches and what its jobs said of each record (``spool_tables``).

A batch is a few hundred thousand small objects; built while the cyclic garbage collector
runs, unpickling one made the collector walk everything the process holds again and again
(four fifths of a load's time, read once per stage of the push and once to commit). The
decisions hold no reference cycles, so they are loaded with the collector paused, as they
were decided (:func:`sync.cycle.decide.collection_paused`).
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sync.cycle.decide import Decisions, collection_paused
from sync.cycle.spool_tables import SpoolTables

_LENGTH = struct.Struct(">Q")


def spool_dir() -> Path:
    """Where spools live: ``MAPSYNC_SPOOL_DIR`` or the system's temporary directory."""
    return Path(os.environ.get("MAPSYNC_SPOOL_DIR") or tempfile.gettempdir()) / "mapsync-spool"


class Spool:
    """Append-only file of pickled batch decisions, cut back to a checkpointed length."""

    def __init__(self, name: str, directory: Path | None = None) -> None:
        # ``name``: random, kept in the checkpoint (two stores backfilling one org never
        # share a spool)
        self.name = name
        self.path = (directory or spool_dir()) / f"{name}.spool"
        self.tables = SpoolTables(self.path.with_suffix(".db"))

    def exists(self) -> bool:
        return self.path.exists()

    def start(self) -> None:
        """An empty spool (a new backfill)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(b"")
        self.tables.remove()

    def cut(self, length: int) -> None:
        """Back to ``length`` bytes: what a killed run appended after its checkpoint goes."""
        with self.path.open("r+b") as f:
            f.truncate(length)

    def append(self, decisions: Decisions) -> int:
        """Add one batch, on disk before returning; the spool's new length."""
        data = pickle.dumps(decisions, protocol=pickle.HIGHEST_PROTOCOL)
        with self.path.open("ab") as f:
            f.write(_LENGTH.pack(len(data)) + data)
            f.flush()
            os.fsync(f.fileno())
            return f.tell()

    def batches(self) -> Iterator[Decisions]:
        """Every batch, in the order spooled (one in memory at a time)."""
        with self.path.open("rb") as f:
            while head := f.read(_LENGTH.size):
                (size,) = _LENGTH.unpack(head)
                # (no local keeps the batch's bytes, tens of MB, while it is worked on)
                yield _load(f.read(size))

    def remove(self) -> None:
        """The spool and its tables (the backfill is done with them)."""
        self.tables.remove()
        self.path.unlink(missing_ok=True)


def _load(data: bytes) -> Decisions:
    """One batch from its bytes, the collector paused (see the module's docstring)."""
    with collection_paused():
        decisions: Decisions = pickle.loads(data)  # noqa: S301 - this backfill's own file
    return decisions
