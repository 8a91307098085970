"""The org's records in SQLite: one table per sObject, written with Salesforce's rules.

Every write path of the emulator (REST rows, Collections, Composite, Bulk, seeds) goes
through this one store, so a record is validated, stamped and cascaded the same way however
it arrives. The table layout is the contract in ``schema.py`` (the SOQL compiler reads the
same tables). A request's records are written in one transaction; each record makes all its
checks before its first statement, so one record can fail alone, or all can be rolled back
for ``allOrNone``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.emulator import ids
from connectors.emulator.deletion import cascade, check_restricted, clear_lookups
from connectors.emulator.derived import derive
from connectors.emulator.errors import ROLLED_BACK_MESSAGE, RecordError, RecordFailed, RecordResult
from connectors.emulator.history_writer import HistoryWriter
from connectors.emulator.hooks import WriteGuard
from connectors.emulator.layout import create_tables
from connectors.emulator.loading import load_rows
from connectors.emulator.objects_team import FIXED, purge, purged_between, same_member
from connectors.emulator.record_checks import (
    check_references,
    check_unique,
    live_row,
    prepare,
    refuse_read_only,
)
from connectors.emulator.schema import FieldDef, Schema, SObjectDef
from connectors.emulator.sqltext import insert_sql, q, select_sql, update_sql
from connectors.emulator.values import format_datetime, to_json, to_storage


class MultipleMatches(Exception):
    """An upsert's external id value matched more than one record (HTTP 300)."""

    def __init__(self, record_ids: list[str]) -> None:
        super().__init__(", ".join(record_ids))
        self.record_ids = record_ids


def utc_now() -> datetime:
    return datetime.now(UTC)


class OrgStore:
    """The records of one org; thread-safe (one lock around the connection)."""

    def __init__(self, schema: Schema, path: Path | None = None, *,
                 clock: Callable[[], datetime] = utc_now,
                 stamp_lag_ms: Callable[[], int] = lambda: 0) -> None:
        self.schema = schema
        self.path = path
        self.clock = clock
        self.stamp_lag_ms = stamp_lag_ms
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(path) if path else ":memory:",
                                    check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._serials: dict[str, int] = {}
        self._batch_now: datetime | None = None
        self._batch_stamp: str | None = None
        self._required: dict[str, list[str]] = {}
        self.live_refs: set[str] = set()  # lookup targets seen alive in the current batch
        self.guards: list[WriteGuard] = []  # access rules and automation, asked per record
        self.history = HistoryWriter(self)
        # (object, values, user) before a created record's INSERT, checks passed (Files)
        self.before_insert: list[Callable[[SObjectDef, dict[str, object], str], None]] = []
        self.after_batch: list[Callable[[int], None]] = []  # records each batch wrote
        self.create_tables()

    # ---- layout ---------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create missing tables, columns and indexes (existing data is kept)."""
        with self.lock:
            create_tables(self.conn, self.schema)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # ---- ids and stamps -------------------------------------------------------------

    def _last_serial(self, obj: SObjectDef) -> int:
        """The last serial minted under ``obj``'s key prefix (history objects share one)."""
        serial = self._serials.get(obj.key_prefix)
        if serial is None:
            serial = 0
            for same in self.schema.objects.values():
                if same.key_prefix == obj.key_prefix:
                    row = self.conn.execute(f"SELECT MAX(Id) FROM {q(same.name)}").fetchone()
                    serial = max(serial, ids.serial_of(row[0]) if row and row[0] else 0)
        return serial

    def new_id(self, obj: SObjectDef) -> str:
        serial = self._last_serial(obj) + 1
        self._serials[obj.key_prefix] = serial
        return ids.make_id(obj.key_prefix, serial)

    def claim_id(self, obj: SObjectDef, record_id: str) -> None:
        """Note an Id given from outside so ``new_id`` never mints it again."""
        serial = ids.serial_of(record_id)
        if serial > self._last_serial(obj):
            self._serials[obj.key_prefix] = serial

    def stamp(self) -> str:
        """The time a write commits at; may lag behind when late commits are emulated.

        Records of one request share the request's time, as one transaction's do.
        """
        lag = self.stamp_lag_ms()
        if self._batch_now is not None and not lag:
            if self._batch_stamp is None:
                self._batch_stamp = format_datetime(self._batch_now)
            return self._batch_stamp
        now = self._batch_now or self.clock()
        return format_datetime(now - timedelta(milliseconds=lag) if lag else now)

    @property
    def in_batch(self) -> bool:
        """Whether a request's records are being written now (``run_batch``)."""
        return self._batch_now is not None

    def object_of(self, record_id: str) -> SObjectDef | None:
        return self.schema.by_prefix(record_id[:3])

    # ---- transactions ---------------------------------------------------------------

    @contextmanager
    def transaction(self, name: str = "tx") -> Iterator[None]:
        """All writes inside commit together or not at all.

        Savepoints, not BEGIN, so a Composite request can wrap the transactions of its
        subrequests in one of its own.
        """
        with self.lock:
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            self.conn.execute(f"RELEASE {name}")

    def run_batch(self, ops: Iterable[Callable[[], RecordResult]],
                  all_or_none: bool = False) -> list[RecordResult]:
        """Run each record's write in one transaction; a failing record leaves no trace.

        With ``all_or_none`` a single failure rolls back every record, and those that had
        succeeded report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
        """
        results: list[RecordResult] = []
        with self.lock:
            self.conn.execute("SAVEPOINT batch")
            try:
                self._batch_now = self.clock()
                for op in ops:
                    # each write makes all its checks before its first statement, so a
                    # failed record has written nothing and needs no savepoint of its own
                    try:
                        results.append(op())
                    except RecordFailed as failed:
                        results.append(RecordResult(None, failed.errors))
                self.history.flush()
            except BaseException:
                self.history.discard()
                self.conn.execute("ROLLBACK TO batch")
                self.conn.execute("RELEASE batch")
                raise
            finally:
                self._batch_now = None
                self._batch_stamp = None
                self.live_refs.clear()
            for hook in self.after_batch:
                hook(len(results))  # failed records cost their checks too
            if all_or_none and any(not r.success for r in results):
                self.conn.execute("ROLLBACK TO batch")
                self.conn.execute("RELEASE batch")
                rolled = RecordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK_MESSAGE)
                return [RecordResult(None, [rolled]) if r.success else RecordResult(None, r.errors)
                        for r in results]
            self.conn.execute("RELEASE batch")
        return results

    # ---- reads ----------------------------------------------------------------------

    def find(self, obj: SObjectDef, record_id: str) -> dict[str, object] | None:
        """The stored row of ``record_id`` (deleted rows too), or None."""
        names = tuple(obj.fields)
        with self.lock:
            row = self.conn.execute(select_sql(obj.name, names), (record_id,)).fetchone()
        return None if row is None else dict(zip(names, row, strict=True))

    def find_many(self, obj: SObjectDef, record_ids: list[str]) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        with self.lock:
            for start in range(0, len(record_ids), 500):
                chunk = record_ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                cur = self.conn.execute(
                    f"SELECT * FROM {q(obj.name)} WHERE Id IN ({marks})", chunk)
                names = [d[0] for d in cur.description]
                for row in cur:
                    rec = dict(zip(names, row, strict=True))
                    out[str(rec["Id"])] = rec
        return out

    def record_json(self, obj: SObjectDef, row: dict[str, object], version: str,
                    fields: list[FieldDef] | None = None) -> dict[str, object]:
        """One record as Salesforce answers it, with ``attributes``."""
        url = f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}"
        out: dict[str, object] = {"attributes": {"type": obj.name, "url": url}}
        for f in fields if fields is not None else obj.fields.values():
            blob = f.type == "base64" and row.get(f.name) is not None  # answered as its URL
            out[f.name] = f"{url}/{f.name}" if blob else \
                to_json(f, row.get(f.name))
        return out

    def ids_by_value(self, obj: SObjectDef, f: FieldDef, value: object,
                     include_deleted: bool = False) -> list[str]:
        coll = "" if f.case_sensitive or f.type not in ("string", "email", "id") else \
            " COLLATE NOCASE"
        deleted = "" if include_deleted else " AND IsDeleted = 0"
        with self.lock:
            return [r[0] for r in self.conn.execute(
                f"SELECT Id FROM {q(obj.name)} WHERE {q(f.name)} = ?{coll}{deleted} ORDER BY Id",
                (value,))]

    def changed_between(self, obj: SObjectDef, start: str, end: str,
                        deleted: bool) -> list[tuple[str, str]]:
        """(Id, SystemModstamp) of rows stamped in [start, end), deleted or not."""
        with self.lock:
            rows = [(r[0], r[1]) for r in self.conn.execute(
                f"SELECT Id, SystemModstamp FROM {q(obj.name)} WHERE SystemModstamp >= ? AND "
                f"SystemModstamp < ? AND IsDeleted = ? ORDER BY SystemModstamp, Id",
                (start, end, int(deleted)))]
            purged = purged_between(self, obj, start, end) if deleted else []
            return sorted(rows + purged, key=lambda r: (r[1], r[0])) if purged else rows

    def count(self, obj: SObjectDef, include_deleted: bool = False) -> int:
        where = "" if include_deleted else " WHERE IsDeleted = 0"
        with self.lock:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM {q(obj.name)}{where}")
                       .fetchone()[0])

    # ---- writes (call inside run_batch or transaction) ------------------------------

    def create(self, obj: SObjectDef, body: dict[str, object], user_id: str,
               checked_unique: str | None = None) -> str:
        """Insert one record; ``checked_unique`` names a unique field already checked."""
        refuse_read_only(obj, "inserted")
        for guard in self.guards:
            guard.before_create(obj, body, user_id)
        member = same_member(self, obj, body)
        if member is not None:  # a user is on a deal's team once: the create updates it
            self.update(obj, member, {k: v for k, v in body.items() if k not in FIXED}, user_id)
            return member
        values = prepare(self, obj, body, creating=True)
        for f in obj.fields.values():
            if f.name not in values and f.default_value is not None and f.createable:
                values[f.name] = user_id if f.default_value == "$user" else (
                    int(f.default_value) if isinstance(f.default_value, bool)
                    else f.default_value)
            elif f.type == "boolean" and f.name not in values and not f.system:
                values.setdefault(f.name, 0)
        required = self._required.get(obj.name)
        if required is None:
            required = self._required[obj.name] = [
                f.name for f in obj.fields.values() if f.required]
        missing = [n for n in required if values.get(n) is None]
        if missing:
            raise RecordFailed(RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                missing))
        check_references(self, obj, values)
        for guard in self.guards:
            guard.before_save(obj, values, None, user_id)
        new_id = self.new_id(obj)
        check_unique(self, obj, values, new_id, checked_unique)
        values.update(derive(obj.name, values, values, True, self._batch_now or self.clock()))
        stamp = self.stamp()
        values.update(Id=new_id, IsDeleted=0, CreatedDate=stamp, CreatedById=user_id,
                      LastModifiedDate=stamp, LastModifiedById=user_id, SystemModstamp=stamp)
        for hook in self.before_insert:
            hook(obj, values, user_id)
        self.conn.execute(insert_sql(obj.name, tuple(values)), list(values.values()))
        self.history.created(obj, new_id, values, user_id, stamp)
        return new_id

    def update(self, obj: SObjectDef, record_id: str, body: dict[str, object],
               user_id: str) -> None:
        refuse_read_only(obj, "updated")
        current = live_row(self, obj, record_id)
        body = {k: v for k, v in body.items() if k.lower() != "id"}
        for guard in self.guards:
            guard.before_update(obj, body, current, user_id)
        values = prepare(self, obj, body, creating=False, current=current)
        missing = [n for n, v in values.items() if v is None and obj.fields[n].required]
        if missing:
            raise RecordFailed(RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                missing))
        check_references(self, obj, values)
        check_unique(self, obj, values, record_id)
        merged = {**current, **values}
        for guard in self.guards:
            guard.before_save(obj, merged, current, user_id)
        values.update(derive(obj.name, merged, values, False, self._batch_now or self.clock()))
        stamp = self.stamp()
        self.history.updated(obj, record_id, current, values, user_id, stamp)
        values.update(LastModifiedDate=stamp, LastModifiedById=user_id, SystemModstamp=stamp)
        self.conn.execute(update_sql(obj.name, tuple(values)), [*values.values(), record_id])

    def upsert(self, obj: SObjectDef, ext: FieldDef, ext_value: object,
               body: dict[str, object], user_id: str) -> tuple[str, bool]:
        """Create or update the record whose ``ext`` field equals ``ext_value``.

        Returns (Id, created); raises MultipleMatches when several records match.
        """
        body = {k: v for k, v in body.items() if k.lower() != ext.name.lower()}
        if ext.name == "Id":
            if ext_value in (None, ""):
                return self.create(obj, body, user_id), True
            norm = ids.normalize(str(ext_value))
            if norm is None:
                raise RecordFailed(RecordError("MALFORMED_ID", f"malformed id {ext_value}",
                                               ["Id"]))
            self.update(obj, norm, body, user_id)
            return norm, False
        stored = to_storage(ext, ext_value)
        if stored is None:
            raise RecordFailed(RecordError(
                "MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name]))
        matches = self.ids_by_value(obj, ext, stored)
        if len(matches) > 1:
            raise MultipleMatches(matches)
        if matches:
            self.update(obj, matches[0], body, user_id)
            return matches[0], False
        return self.create(obj, {**body, ext.name: ext_value}, user_id, ext.name), True

    def delete(self, record_id: str, user_id: str, hard: bool = False) -> None:
        """Soft-delete a record (queryAll still sees it, for 15 days) and the children that
        go with it; ``hard`` (Bulk ``hardDelete``) removes them at once, recycle bin skipped."""
        norm = ids.normalize(record_id)
        obj = self.object_of(norm) if norm else None
        if norm is None or obj is None:
            raise RecordFailed(RecordError("MALFORMED_ID", f"malformed id {record_id}"))
        refuse_read_only(obj, "deleted")  # (history rows of all objects share one prefix)
        row = self.find(obj, norm)
        if row is None:
            raise RecordFailed(RecordError("INVALID_CROSS_REFERENCE_KEY",
                                           "invalid cross reference id"))
        if row["IsDeleted"]:
            raise RecordFailed(RecordError("ENTITY_IS_DELETED", "entity is deleted"))
        for guard in self.guards:
            guard.before_delete(obj, row, user_id)
        doomed = cascade(self, obj, [norm])
        check_restricted(self, doomed, row)
        self.live_refs.clear()
        stamp = self.stamp()
        if not hard and purge(self, obj, norm, stamp):  # a record kept out of the bin
            return
        for target, record_ids in doomed:
            if hard:
                self.conn.executemany(f"DELETE FROM {q(target.name)} WHERE Id = ?",
                                      [(rid,) for rid in record_ids])
                continue
            self.conn.executemany(
                f"UPDATE {q(target.name)} SET IsDeleted = 1, SystemModstamp = ?, "
                f"LastModifiedDate = ?, LastModifiedById = ? WHERE Id = ?",
                [(stamp, stamp, user_id, rid) for rid in record_ids])
            self.history.deleted(target, record_ids, stamp)
        for target, record_ids in doomed:
            clear_lookups(self, target, record_ids, stamp)

    def insert_rows(self, obj: SObjectDef, rows: list[dict[str, object]], user_id: str,
                    stamp: str | None = None) -> list[str]:
        """Load already-valid stored values fast (seeds): no checks (``loading``)."""
        return load_rows(self, obj, rows, user_id, stamp)

    # ---- checks ---------------------------------------------------------------------
