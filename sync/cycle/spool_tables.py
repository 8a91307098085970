"""A spool's tables on disk: what its Bulk jobs said of each record, and the org's team.

A spooled backfill writes every record of the run in one job per object, so the jobs'
results are as many as the run's records: 100,000 Opportunities make about a million, and
held in memory they took most of a gigabyte. So each job's results go, row by row as they
download, into a SQLite file beside the spool, keyed by (object, external key); each batch
of the spool then looks up only its own records (plan Ids for its Tasks and milestones, its
new Task Ids, each record's outcome when it commits). The org's contact roles and Opportunity
Team members, each read in one Bulk query for all batches (a backfill's, a streamed first
cycle's), wait here too, batch by batch. A Bulk query returns rows in no order (and an
``ORDER BY`` turns off the PK chunking a large object needs), so each person keeps the keys a
REST read orders by (contact roles: primary first, then Id; team members: by creation, then
Id), and a batch gets its own in that order, as ``sync.cycle.pull`` gives them.

A job's rows and its mark as collected commit in one transaction: a resumed push (after a
SIGKILL, say) collects only the jobs not marked, so what was downloaded is not downloaded
again; a file lost with the temporary directory is only a slower resume (every saved job is
collected again). The file goes with the spool.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors.salesforce.errors import RecordError
from connectors.salesforce.results import RecordResult
from sync.cycle.sobjects import CONTACT_ROLE, TEAM_MEMBER

_SCHEMA = """
CREATE TABLE IF NOT EXISTS result (
    object TEXT NOT NULL, key TEXT NOT NULL, id TEXT, success INTEGER NOT NULL,
    created INTEGER NOT NULL, errors TEXT, outcome TEXT NOT NULL,
    PRIMARY KEY (object, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS collected (job TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS person (kind TEXT NOT NULL, opportunity TEXT NOT NULL,
    rank TEXT NOT NULL, id TEXT NOT NULL, role TEXT NOT NULL, who TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS person_by_opportunity ON person (kind, opportunity, rank, id);
CREATE TABLE IF NOT EXISTS read (what TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS note (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""
# a file of an older layout (a backfill paused across an upgrade) reads its people again
_LAYOUT = 1
_OLDER = "DROP TABLE IF EXISTS person; DROP TABLE IF EXISTS read;"
# kind: its object, the fields of the role and of who holds it
PEOPLE = {"roles": (CONTACT_ROLE, "Role", "ContactId"),
          "team": (TEAM_MEMBER, "TeamMemberRole", "UserId")}
# kind: what a Bulk query of it reads (with the fields of its REST order)
PEOPLE_FIELDS = {"roles": ("Id", "OpportunityId", "Role", "ContactId", "IsPrimary"),
                 "team": ("Id", "OpportunityId", "TeamMemberRole", "UserId", "CreatedDate")}
_CHUNK = 500  # keys per lookup (SQLite allows 32,766 parameters; small keeps plans short)


class SpoolTables:
    """The SQLite file of one spool (opened on first use, closed by :meth:`close`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None)
            # this process's own scratch: a lost file is rebuilt, so no fsync per job
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            if db.execute("PRAGMA user_version").fetchone()[0] < _LAYOUT:
                db.executescript(_OLDER)
                db.execute(f"PRAGMA user_version = {_LAYOUT}")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def remove(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # --- what the run itself keeps for a resume ----------------------------------------

    def keep_note(self, name: str, value: object) -> None:
        """Keep ``value`` under ``name`` (a streamed first cycle's marks, say), durably."""
        self.db.execute("INSERT OR REPLACE INTO note VALUES (?, ?)",
                        (name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))

    def note(self, name: str) -> Any:
        """What :meth:`keep_note` kept under ``name``, or None."""
        row = self.db.execute("SELECT value FROM note WHERE name = ?", (name,)).fetchone()
        return pickle.loads(row[0]) if row else None  # noqa: S301 - this run's own file

    # --- the jobs' results -------------------------------------------------------------

    def collected(self, job: str) -> bool:
        """Whether ``job``'s results are all here already."""
        return self.db.execute("SELECT 1 FROM collected WHERE job = ?",
                               (job,)).fetchone() is not None

    def keep(self, sobject: str, job: str, results: Iterable[RecordResult]) -> None:
        """Store one job's results as they come (a key seen again: the later result) and
        mark the job collected, all in one transaction."""
        rows = ((sobject, r.external_id, r.id, r.success, r.created,
                 json.dumps([[e.code, e.message, e.fields] for e in r.errors])
                 if r.errors else None, r.outcome)
                for r in results if r.external_id is not None)
        db = self.db
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO result VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("INSERT OR REPLACE INTO collected VALUES (?)", (job,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def results(self, sobject: str, keys: Iterable[str]) -> dict[str, RecordResult]:
        """What the jobs said of these records of ``sobject`` (those they named)."""
        out: dict[str, RecordResult] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for key, id_, success, created, errors, outcome in self.db.execute(
                    "SELECT key, id, success, created, errors, outcome FROM result "
                    f"WHERE object = ? AND key IN ({marks})",
                    (sobject, *chunk)):
                out[key] = RecordResult(
                    key, id_, bool(success), bool(created),
                    [RecordError(c, m, f) for c, m, f in json.loads(errors)] if errors else [],
                    outcome)
        return out

    # --- the org's contact roles and Opportunity Team members --------------------------

    def has(self, kind: str) -> bool:
        """Whether every one of ``kind`` (``roles``, ``team``) was read (a killed read
        left none behind)."""
        return self.db.execute("SELECT 1 FROM read WHERE what = ?",
                               (kind,)).fetchone() is not None

    def keep_people(self, kind: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Every contact role or team member (``kind``) of these rows of a Bulk query (a
        row's fields: :data:`PEOPLE_FIELDS`), in one transaction; how many were kept (a row
        deleted, or naming nobody, is not)."""
        kept = 0

        def people() -> Iterator[tuple[str, ...]]:
            nonlocal kept
            for row in rows:
                person = _person(kind, row)
                if person is not None:
                    kept += 1
                    yield person

        db = self.db
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM person WHERE kind = ?", (kind,))
            db.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?, ?)", people())
            db.execute("INSERT OR REPLACE INTO read VALUES (?)", (kind,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return kept

    def people(self, kind: str, opportunities: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """Those of ``kind`` on these Opportunities, each one's in REST order
        (``Roles``/``Team`` of ``sync.cycle.pull``)."""
        out: dict[str, list[tuple[str, str]]] = {}
        for chunk in _chunks(opportunities):
            marks = ",".join("?" * len(chunk))
            for opportunity, role, who in self.db.execute(
                    "SELECT opportunity, role, who FROM person WHERE kind = ? AND "
                    f"opportunity IN ({marks}) ORDER BY opportunity, rank, id",
                    (kind, *chunk)):
                out.setdefault(opportunity, []).append((role, who))
        return out


def _person(kind: str, row: Mapping[str, Any]) -> tuple[str, ...] | None:
    """A row as stored: its Opportunity, its place there (``rank``, then ``id``), role, who."""
    _, role, who = PEOPLE[kind]
    if not row.get(who) or not row.get("OpportunityId") or _true(row.get("IsDeleted")):
        return None
    rank = ("0" if _true(row.get("IsPrimary")) else "1") if kind == "roles" else \
        str(row.get("CreatedDate") or "")
    return (kind, str(row["OpportunityId"]), rank, str(row.get("Id") or ""),
            str(row.get(role) or ""), str(row[who]))


def _true(value: Any) -> bool:
    """A Bulk CSV's ``true`` or a typed row's ``True``."""
    return value is True or str(value).lower() == "true"


def _chunks(keys: Iterable[str]) -> Iterator[Sequence[str]]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start:start + _CHUNK]
