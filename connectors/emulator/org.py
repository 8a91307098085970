"""One local org: its schema, records, users, credentials, sessions, knobs and API usage.

The HTTP routes and the in-process handle tests use both work on this object, so a test can
flip a knob or read the API usage of exactly the org its client talks to.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import ids
from .auth import Credentials, Session, Sessions
from .history import add_history_objects
from .knobs import ApiUsage, Dice, Knobs
from .metadata_loader import apply_metadata, default_metadata_dir
from .schema import Schema
from .seed import ORG_ID, seed_org
from .standard_objects import standard_schema
from .store import OrgStore, utc_now

DB_FILE = "org.sqlite3"


def build_schema(metadata_dir: Path | None) -> Schema:
    """Standard objects plus the custom objects of the sfdx project at ``metadata_dir``, and
    the history objects of both."""
    schema = standard_schema()
    if metadata_dir is not None and metadata_dir.exists():
        apply_metadata(schema, metadata_dir)
    add_history_objects(schema)
    return schema


@dataclass
class QueryCursor:
    """Rows of a query still being paged through ``nextRecordsUrl``."""

    compiled: Any
    rows: list[tuple[Any, ...]]
    batch_size: int


class QueryCursors:
    """Open query cursors by locator id, the oldest forgotten first (thread-safe).

    Salesforce keeps few open cursors per user; keeping few here also bounds the memory
    that abandoned paging of large queries can hold.
    """

    def __init__(self, keep: int = 20) -> None:
        self._cursors: OrderedDict[str, QueryCursor] = OrderedDict()
        self._keep = keep
        self._serial = 0
        self._lock = threading.Lock()

    def open(self, cursor: QueryCursor) -> str:
        with self._lock:
            self._serial += 1
            locator = ids.make_id("01g", self._serial)[:15]
            self._cursors[locator] = cursor
            while len(self._cursors) > self._keep:
                self._cursors.popitem(last=False)
            return locator

    def get(self, locator: str) -> QueryCursor | None:
        with self._lock:
            return self._cursors.get(locator)

    def close(self, locator: str) -> None:
        with self._lock:
            self._cursors.pop(locator, None)


class Org:
    """A Salesforce org held in SQLite (a file in ``state_dir``, or memory when None)."""

    def __init__(self, *, state_dir: Path | None = None, seed: str = "demo",
                 opportunities: int = 0, knobs: Knobs | None = None, fault_seed: int = 0,
                 metadata_dir: Path | None = None, today: date | None = None,
                 credentials: Credentials | None = None) -> None:
        self.knobs = knobs or Knobs()
        self.dice = Dice(fault_seed)
        self.usage = ApiUsage()
        self.schema = build_schema(metadata_dir if metadata_dir is not None
                                   else default_metadata_dir())
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
        self.sessions = Sessions(self.org_id)
        self.cursors = QueryCursors()
        self.instance_url = ""

    def _stamp_lag(self) -> int:
        return self.knobs.late_stamp_ms if self.dice.roll(self.knobs.late_stamp_rate) else 0

    def now(self) -> datetime:
        return utc_now()

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
        self.store.close()
