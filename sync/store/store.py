"""The store: mapsync's local working copy, opened once per process from ``DATABASE_URL``.

Opening checks the schema revision before anything is read or written, because a worker
writing into a schema it does not know corrupts state quietly. Choice on an out-of-date
schema: a SQLite database (one machine, often a fresh file for a demo or a single worker) is
upgraded on open; a PostgreSQL database (shared by several workers) is not, opening fails
with "run mapsync db upgrade", and the release step (``mapsync db upgrade``) does it once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError, OperationalError

from sync.store import engine as store_engine
from sync.store import leases
from sync.store.engine import BEGIN_MODE, create_store_engine, mask_url, scrub
from sync.store.errors import (
    DatabaseUnavailableError,
    NotAStoreError,
    SchemaOutOfDateError,
    StoreLockedError,
)
from sync.store.migrate import current_revision, head_revision, known_revisions, upgrade
from sync.store.records import Lease
from sync.store.unit_of_work import Transaction

Clock = Callable[[], datetime]
UPGRADE_ATTEMPTS = 5

# SQLite's answers that mean the file itself is wrong, and that another process holds it.
_NOT_A_DATABASE = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}
_LOCKED = {"SQLITE_BUSY", "SQLITE_LOCKED"}


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class Store:
    """Watermarks, shadow, plan index, runs, dead letters, leases and checkpoints of one
    database (several orgs may share it: everything is keyed by org id)."""

    def __init__(self, engine: Engine, database_url: str, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._url = database_url
        self._clock = clock
        self._thread = threading.local()

    @classmethod
    def open(
        cls,
        database_url: str | SecretStr,
        *,
        auto_upgrade: bool | None = None,
        clock: Clock = utc_now,
    ) -> Store:
        """Connect and check the schema revision.

        ``auto_upgrade`` defaults to ``True`` on SQLite and ``False`` on PostgreSQL (see the
        module docstring). Raises :class:`SchemaOutOfDateError` when the schema is not the
        code's revision, :class:`DatabaseUnavailableError` when the database cannot be reached.
        """
        store = _unchecked(database_url, clock)
        if auto_upgrade is None:
            auto_upgrade = store.backend == "sqlite"
        try:
            store._check_revision(auto_upgrade)
        except BaseException:
            store.close()
            raise
        return store

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def url_masked(self) -> str:
        """``DATABASE_URL`` with its password masked, for messages and logs."""
        return mask_url(self._url)

    @property
    def location(self) -> str:
        """The SQLite file's path, or the masked URL of a server database."""
        if self.backend == "sqlite" and self.engine.url.database:
            return self.engine.url.database
        return self.url_masked

    def __repr__(self) -> str:
        return f"Store({self.url_masked!r})"

    def now(self) -> datetime:
        """The store's clock (UTC)."""
        return self._clock()

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- schema -----------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        return self._guard(lambda: current_revision(self.engine))

    def upgrade(self) -> str | None:
        """Migrate the schema to the code's revision; return the revision reached."""
        return self._guard(lambda: upgrade(self.engine))

    def _check_revision(self, auto_upgrade: bool) -> None:
        expected = head_revision()
        current = self.revision()
        if current == expected:
            return
        if current is not None and current not in known_revisions():
            raise SchemaOutOfDateError(
                f"the database {self.url_masked} is at schema revision {current}, newer than "
                f"this mapsync ({expected}): upgrade mapsync", current, expected,
            )
        if auto_upgrade:
            self.upgrade()
            return
        raise SchemaOutOfDateError(
            f"the database {self.url_masked} is at schema revision {current or 'none'} but "
            f"this mapsync needs {expected}: run mapsync db upgrade", current, expected,
        )

    # --- units of work ----------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One database transaction: commits when the block ends, rolls back if it raises.

        ``write=False`` is for readers (status, listings): the database refuses writes in
        it, and on SQLite it does not take the write lock, so it never waits for a cycle.
        On SQLite a second write (transaction or lease change) opened by the same thread
        inside a write transaction would wait for itself; it raises at once instead.
        """
        with self._writing(write):
            yield from self._transaction(write)

    def _transaction(self, write: bool) -> Iterator[Transaction]:
        try:
            conn = self.engine.connect()
        except DatabaseError as err:
            raise self._translate(err) from None
        with conn:
            read_only_sqlite = not write and self.backend == "sqlite"
            try:
                if read_only_sqlite:
                    conn.execution_options(**{BEGIN_MODE: "DEFERRED"})
                    conn.exec_driver_sql("PRAGMA query_only = ON")
                    conn.commit()
                elif not write:
                    conn.execution_options(postgresql_readonly=True)
                with conn.begin():
                    yield Transaction(conn, self._clock)
            except DatabaseError as err:
                raise self._translate(err) from None
            finally:
                if read_only_sqlite and not conn.closed:
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
                    conn.commit()

    @contextmanager
    def _writing(self, write: bool) -> Iterator[None]:
        if not write or self.backend != "sqlite":
            yield
            return
        if getattr(self._thread, "writing", False):
            raise RuntimeError(
                "a SQLite write was opened inside another write transaction of the same "
                "thread; it would wait for itself: do it inside the open transaction or after"
            )
        self._thread.writing = True
        try:
            yield
        finally:
            self._thread.writing = False

    # --- leases -----------------------------------------------------------------------------

    def try_acquire_lease(self, org_id: str, holder: str, ttl_seconds: float) -> bool:
        """Take the lease of ``org_id`` if free, expired or already ``holder``'s."""
        return self._guard_write(lambda: leases.try_acquire(
            self.engine, org_id, holder, timedelta(seconds=ttl_seconds), self.now()))

    def renew_lease(self, org_id: str, holder: str, ttl_seconds: float) -> bool:
        """Extend ``holder``'s lease to ``ttl_seconds`` from now; ``False`` if it was lost."""
        return self._guard_write(lambda: leases.renew(
            self.engine, org_id, holder, timedelta(seconds=ttl_seconds), self.now()))

    def take_over_lease(self, org_id: str, dead: str, holder: str, ttl_seconds: float) -> bool:
        """Take the lease from ``dead`` (gone for sure) if it still holds it."""
        return self._guard_write(lambda: leases.take_over(
            self.engine, org_id, dead, holder, timedelta(seconds=ttl_seconds), self.now()))

    def heartbeat(self, org_id: str, holder: str) -> bool:
        """Renew ``holder``'s lease for its last time to live; ``False`` if it was lost."""
        return self._guard_write(lambda: leases.heartbeat(self.engine, org_id, holder, self.now()))

    def release_lease(self, org_id: str, holder: str) -> bool:
        """Give up ``holder``'s lease; ``False`` if it was not theirs."""
        return self._guard_write(lambda: leases.release(self.engine, org_id, holder))

    def lease_holder(self, org_id: str) -> str | None:
        """Who holds a live lease on ``org_id`` (``None`` if free or expired)."""
        return self._guard(lambda: leases.holder(self.engine, org_id, self.now()))

    def lease(self, org_id: str) -> Lease | None:
        """The lease row of ``org_id``, expired or not."""
        return self._guard(lambda: leases.get(self.engine, org_id))

    # --- errors -----------------------------------------------------------------------------

    def _guard_write(self, fn: Callable[[], Any]) -> Any:
        with self._writing(True):
            return self._guard(fn)

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except DatabaseError as err:
            raise self._translate(err) from None

    def _translate(self, err: DatabaseError) -> Exception:
        """The product error for a database that cannot be used, in one line.

        A statement's own error (a constraint, bad SQL) is returned as it is: it is a bug to
        see, not a state of the database to report.
        """
        orig = getattr(err, "orig", None) or err
        reason = " ".join(str(orig).split()) or type(orig).__name__
        sqlite_error = getattr(orig, "sqlite_errorname", None)
        if sqlite_error in _NOT_A_DATABASE:
            return NotAStoreError(
                f"the store at {self.location} is not a mapsync database: {reason}")
        if sqlite_error in _LOCKED:
            return StoreLockedError(
                f"the store at {self.location} is locked by another process: gave up after "
                f"{store_engine.SQLITE_BUSY_TIMEOUT_MS / 1000:g} s ({reason})")
        if not isinstance(err, OperationalError):
            return err
        return DatabaseUnavailableError(
            f"cannot use the database {self.url_masked}: {scrub(reason, self._url)}"
        )


def upgrade_database(database_url: str | SecretStr) -> tuple[str | None, str | None]:
    """Migrate the database to the code's revision (``mapsync db upgrade``).

    Returns the revision before and after; errors name the database with its password masked.
    Two releases upgrading one SQLite file at once: the one whose transaction lost the race
    (SQLite answers "database is locked" at once to a reader that tries to write after
    another writer) tries again, and then finds the schema already at head.
    """
    for attempt in range(UPGRADE_ATTEMPTS):
        store = _unchecked(database_url)
        try:
            return store.revision(), store.upgrade()
        except StoreLockedError:
            if attempt == UPGRADE_ATTEMPTS - 1:
                raise
        finally:
            store.close()
        time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def database_revision(database_url: str | SecretStr) -> str | None:
    """The schema revision the database is at (``None``: never migrated)."""
    store = _unchecked(database_url)
    try:
        return store.revision()
    finally:
        store.close()


def _unchecked(database_url: str | SecretStr, clock: Clock = utc_now) -> Store:
    url = (database_url.get_secret_value() if isinstance(database_url, SecretStr)
           else database_url)
    return Store(create_store_engine(url), url, clock)
