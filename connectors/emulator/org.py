"""One local org: its schema, records, users, credentials, sessions, knobs and API usage.

The HTTP routes and the in-process handle tests use both work on this object, so a test can
flip a knob or read the API usage of exactly the org its client talks to.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.emulator import ids
from connectors.emulator.auth import Credentials, Session, Sessions
from connectors.emulator.automation import Automation
from connectors.emulator.bulk_jobs import BulkTally
from connectors.emulator.content import ContentFiles
from connectors.emulator.deletion import empty_recycle_bin
from connectors.emulator.history import add_history_objects
from connectors.emulator.knobs import ApiUsage, Dice, Knobs
from connectors.emulator.metadata_loader import apply_metadata, default_metadata_dir
from connectors.emulator.objects_files import link_anywhere
from connectors.emulator.pace import Pace
from connectors.emulator.schema import Schema
from connectors.emulator.seed import ORG_ID, seed_org
from connectors.emulator.sharing import OrgAccess
from connectors.emulator.standard_objects import standard_schema
from connectors.emulator.store import OrgStore

DB_FILE = "org.sqlite3"


def build_schema(metadata_dir: Path | None) -> Schema:
    """Standard objects plus the custom objects of the sfdx project at ``metadata_dir``, and
    the history objects of both."""
    schema = standard_schema()
    if metadata_dir is not None and metadata_dir.exists():
        apply_metadata(schema, metadata_dir)
    add_history_objects(schema)
    link_anywhere(schema)
    schema.link_children()
    return schema


@dataclass
class QueryCursor:
    """Rows of a query still being paged through ``nextRecordsUrl``."""

    compiled: Any
    rows: list[tuple[Any, ...]]
    batch_size: int
    user_id: str = ""
    legacy: bool = False  # opened through an API version before 56.0 (older cursor rules)
    opened: float = 0.0
    used: float = 0.0


class QueryCursors:
    """Open query cursors by locator id, kept as Salesforce keeps them (thread-safe).

    Salesforce documents (API Query Cursor Limits) that since API version 56.0 there is no
    limit on the number of open cursors and a cursor with its results stays available for
    2 days after the query ran. Before 56.0 a user had at most 10 cursors open (opening an
    11th released the oldest) and a cursor expired after 15 minutes of inactivity; cursors
    opened through an older API version follow those older rules here. ``clock`` (seconds)
    is injectable so a test can let the time pass.
    """

    LIFETIME_SECONDS = 2 * 24 * 3600
    LEGACY_BEFORE_VERSION = 56.0
    LEGACY_PER_USER = 10
    LEGACY_IDLE_SECONDS = 15 * 60

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._cursors: OrderedDict[str, QueryCursor] = OrderedDict()
        self._serial = 0
        self._lock = threading.Lock()
        self.clock = clock

    def open(self, cursor: QueryCursor) -> str:
        with self._lock:
            now = self.clock()
            self._forget_expired(now)
            self._serial += 1
            locator = ids.make_id("01g", self._serial)[:15]
            cursor.opened = cursor.used = now
            self._cursors[locator] = cursor
            if cursor.legacy:
                mine = [k for k, c in self._cursors.items()
                        if c.legacy and c.user_id == cursor.user_id]
                for old in mine[:max(0, len(mine) - self.LEGACY_PER_USER)]:
                    del self._cursors[old]
            return locator

    def get(self, locator: str) -> QueryCursor | None:
        with self._lock:
            now = self.clock()
            cursor = self._cursors.get(locator)
            if cursor is None:
                return None
            if self._expired(cursor, now):
                del self._cursors[locator]
                return None
            cursor.used = now
            return cursor

    def close(self, locator: str) -> None:
        with self._lock:
            self._cursors.pop(locator, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cursors)

    def _expired(self, cursor: QueryCursor, now: float) -> bool:
        if cursor.legacy:
            return now - cursor.used > self.LEGACY_IDLE_SECONDS
        return now - cursor.opened > self.LIFETIME_SECONDS

    def _forget_expired(self, now: float) -> None:
        for locator in [k for k, c in self._cursors.items() if self._expired(c, now)]:
            del self._cursors[locator]


class Org:
    """A Salesforce org held in SQLite (a file in ``state_dir``, or memory when None)."""

    def __init__(self, *, state_dir: Path | None = None, seed: str = "demo",
                 opportunities: int = 0, knobs: Knobs | None = None, fault_seed: int = 0,
                 metadata_dir: Path | None = None, today: date | None = None,
                 credentials: Credentials | None = None,
                 automation_dirs: list[Path] | None = None) -> None:
        """``automation_dirs``: sfdx source trees whose validation rules the org enforces
        besides the product's own (tests keep a customer's rules there)."""
        self.knobs = knobs or Knobs()
        # With the ``journal`` knob: every API call as (monotonic time it arrived, a digest of
        # its access token, method, path), so a test can tell two processes' writes apart.
        self.journal: list[tuple[float, str, str, str]] = []
        self.dice = Dice(fault_seed)
        self.usage = ApiUsage()
        self.pace = Pace(lambda: self.knobs.profile)
        self.bulk_tally = BulkTally()  # Bulk jobs and the polls clients made of them
        # Bulk jobs' uploads and results: on disk, as Salesforce keeps them; a job lives no
        # longer than the process, so files a previous process left are cleared
        self._own_bulk_dir = state_dir is None
        self.bulk_dir = Path(tempfile.mkdtemp(prefix="sf-bulk-")) if state_dir is None \
            else state_dir / "bulk"
        if state_dir is not None:
            shutil.rmtree(self.bulk_dir, ignore_errors=True)
        metadata_dir = metadata_dir if metadata_dir is not None else default_metadata_dir()
        self.schema = build_schema(metadata_dir)
        db = state_dir / DB_FILE if state_dir is not None else None
        fresh = db is None or not db.exists()
        self.store = OrgStore(self.schema, db, stamp_lag_ms=self._stamp_lag)
        self.credentials = credentials or Credentials.load_or_create(
            state_dir / "credentials.json" if state_dir is not None else None)
        if fresh:
            seed_org(self.store, seed, self.credentials.username, opportunities, today)
        self.org_id = ORG_ID
        user = self.user_by_username(self.credentials.username)
        if user is None:
            raise RuntimeError("the org has no integration user")
        self.integration_user_id = str(user["Id"])
        # the integration user holds exactly the permission set mapsync ships
        self.access = OrgAccess(self.schema, self.store,
                                metadata_dir if metadata_dir.exists() else None)
        self.access.assign_integration(self.integration_user_id)
        self.automation = Automation(self.schema, self.dice.roll, lambda: self.now().date())
        for directory in [metadata_dir, *(automation_dirs or [])]:
            if directory.exists():
                self.automation.load(directory)
        files = ContentFiles(self.store, self.access)
        self.store.guards += [self.access, self.automation, files]
        self.store.before_insert.append(files.before_insert)
        self.store.after_batch.append(self.pace.count_written)
        self.sessions = Sessions(self.org_id)
        self.cursors = QueryCursors()
        self.instance_url = ""

    def _stamp_lag(self) -> int:
        return self.knobs.late_stamp_ms if self.dice.roll(self.knobs.late_stamp_rate) else 0

    def now(self) -> datetime:
        return self.store.clock()

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Let the org's time differ from the wall clock (write stamps, the recycle bin)."""
        self.store.clock = clock

    def empty_recycle_bin(self, sobject: str) -> None:
        """Forget the rows of ``sobject`` deleted more than 15 days ago (before reading
        deleted rows, as ``queryAll`` does)."""
        obj = self.schema.get(sobject)
        if obj is not None:
            empty_recycle_bin(self.store, obj)

    # ---- in-process handle ----------------------------------------------------------

    def set_knobs(self, **changes: object) -> None:
        """Change knobs while the org runs, e.g. ``set_knobs(unavailable_rate=1.0)``."""
        self.knobs = self.knobs.changed(**changes)

    def reseed_faults(self, fault_seed: int) -> None:
        self.dice.reseed(fault_seed)

    @property
    def api_calls(self) -> int:
        """API requests counted today (as ``/limits`` and ``Sforce-Limit-Info`` report)."""
        return self.usage.used

    def reset_api_usage(self, used: int = 0) -> None:
        self.usage.reset(used)

    def expire_sessions(self) -> None:
        """Invalidate every access token now (clients must log in again)."""
        self.sessions.expire_all()

    def new_session(self, user_id: str | None = None) -> Session:
        """A session without an OAuth round-trip (for tests and tools)."""
        return self.sessions.issue(user_id or self.integration_user_id)

    def user_by_username(self, username: str) -> dict[str, object] | None:
        user = self.schema.get("User")
        assert user is not None
        found = self.store.ids_by_value(user, user.fields["Username"], username)
        return self.store.find(user, found[0]) if found else None

    def user(self, user_id: str) -> dict[str, object] | None:
        user = self.schema.get("User")
        assert user is not None
        return self.store.find(user, user_id)

    def close(self) -> None:
        self.pace.close()  # Bulk jobs sleeping through their modelled time stop
        self.store.close()
        if self._own_bulk_dir:
            shutil.rmtree(self.bulk_dir, ignore_errors=True)
