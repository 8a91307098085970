"""Every contact role or Opportunity Team member of an org, on disk, asked a chunk at a time.

A streamed first cycle (:mod:`sync.cycle.first_cycle`) reads each of these objects whole in
one Bulk query, but an org of a million Opportunities has millions of them: held as a dict
they would grow the process with the org. So the rows go to a temporary SQLite file as they
arrive, and each chunk of Opportunities asks for its own. A Bulk query returns rows in no
order, so each row keeps the keys a REST read would order it by (contact roles: primary
first, then Id; team members: by creation, then Id), and a chunk's answer comes back in that
order, as :func:`sync.cycle.pull.roles_by_opportunity` and ``team_by_opportunity`` give it.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config.batching import batched

People = dict[str, list[tuple[str, str]]]  # Opportunity Id -> [(role, contact or user Id)]
_INSERT_EVERY = 5_000
_IDS_PER_SELECT = 500  # well inside SQLite's bound-parameter limit


class PeopleFile:
    """(role, Id) pairs by Opportunity in a temporary file, removed by :meth:`close`."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="mapsync-people-")
        self._db = sqlite3.connect(str(Path(self._dir.name) / "people.db"))
        self._db.execute("CREATE TABLE p (opp TEXT, k1 TEXT, k2 TEXT, role TEXT, who TEXT)")
        self._rows: list[tuple[str, str, str, str, str]] = []
        self.count = 0

    def add(self, opportunity: str, order: tuple[str, str], role: str, who: str) -> None:
        """One person of ``opportunity``; ``order``: what this row sorts by within it."""
        self._rows.append((opportunity, order[0], order[1], role, who))
        self.count += 1
        if len(self._rows) >= _INSERT_EVERY:
            self._flush()

    def ready(self) -> None:
        """Every row added: index them for lookups."""
        self._flush()
        self._db.execute("CREATE INDEX p_opp ON p (opp, k1, k2)")

    def of(self, opportunities: Sequence[str]) -> People:
        """The people of these Opportunities, each one's in REST order."""
        out: People = {}
        for chunk in batched(opportunities, _IDS_PER_SELECT):
            marks = ", ".join("?" * len(chunk))
            for opp, role, who in self._db.execute(
                    f"SELECT opp, role, who FROM p WHERE opp IN ({marks}) "
                    "ORDER BY opp, k1, k2", list(chunk)):
                out.setdefault(opp, []).append((role, who))
        return out

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def _flush(self) -> None:
        if self._rows:
            self._db.executemany("INSERT INTO p VALUES (?, ?, ?, ?, ?)", self._rows)
            self._rows = []


def role_order(row: dict[str, Any]) -> tuple[str, str]:
    """A contact role's place among its Opportunity's: the primary first, then by Id."""
    return ("0" if row.get("IsPrimary") else "1", str(row["Id"]))


def member_order(row: dict[str, Any]) -> tuple[str, str]:
    """A team member's place: by creation, then by Id."""
    return (str(row.get("CreatedDate") or ""), str(row["Id"]))
