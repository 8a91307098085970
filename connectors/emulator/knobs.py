"""Realism knobs: how slow, flaky and stingy the local org is, reproducibly.

A sync engine is only proven against the failures it will meet: latency, 503s, connections
that drop without an answer, rows locked by another transaction, sessions that expire, a
daily API quota that runs out, and ``SystemModstamp`` values committed out of order. Each is
a knob here; every random draw comes from one seeded generator, so a failing run can be
replayed with the same ``fault_seed``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

from connectors.emulator.profile import FLAT, Profile

DEFAULT_DAILY_API_LIMIT = 100_000


@dataclass(frozen=True)
class Knobs:
    """The org's behaviour settings (all off by default)."""

    latency_ms: int = 0  # added before every API call is answered
    unavailable_rate: float = 0.0  # share of API calls answered 503 SERVER_UNAVAILABLE
    drop_rate: float = 0.0  # share of API calls whose connection is closed without answer
    lock_rate: float = 0.0  # share of records in a write failing UNABLE_TO_LOCK_ROW
    session_max_calls: int | None = None  # a token stops working after this many calls
    session_ttl_seconds: float | None = None  # ... or after this many seconds
    daily_api_limit: int = DEFAULT_DAILY_API_LIMIT
    late_stamp_rate: float = 0.0  # share of writes stamped in the past, as a late commit is
    late_stamp_ms: int = 2_000  # how far in the past such a write is stamped
    bulk_fail_after: int | None = None  # a Bulk ingest job ends Failed after this many rows
    # Get Updated / Get Deleted answer EXCEEDED_ID_LIMIT past this many Ids (Salesforce's)
    replication_id_limit: int = 600_000
    journal: bool = False  # keep a journal of every API call (``Org.journal``), for tests
    profile: Profile = FLAT  # how long calls, writes and Bulk jobs take (``profile.py``)

    @classmethod
    def with_fault_rate(cls, fault_rate: float, **kw: object) -> Knobs:
        """Knobs where ``fault_rate`` of calls fail (half 503, half dropped connections) and
        ``fault_rate`` of written records meet a locked row."""
        return replace(cls(**kw),  # type: ignore[arg-type]
                       unavailable_rate=fault_rate / 2, drop_rate=fault_rate / 2,
                       lock_rate=fault_rate)

    def changed(self, **kw: object) -> Knobs:
        known = {f.name for f in fields(self)}
        unknown = set(kw) - known
        if unknown:
            raise TypeError(f"unknown knobs: {', '.join(sorted(unknown))}")
        return replace(self, **kw)  # type: ignore[arg-type]


class Dice:
    """The org's one seeded source of randomness (thread-safe).

    A knob at zero never draws, so turning one knob on does not shift the others' draws.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)


class ApiUsage:
    """API requests counted as Salesforce counts them, over a rolling 24 hours (thread-safe).

    ``clock`` (seconds, monotonic) is injectable so tests can let a day pass.
    """

    WINDOW_SECONDS = 24 * 3600

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._calls: deque[float] = deque()
        self._clock = clock
        self._lock = threading.Lock()

    def _expire(self) -> None:
        horizon = self._clock() - self.WINDOW_SECONDS
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()

    @property
    def used(self) -> int:
        with self._lock:
            self._expire()
            return len(self._calls)

    def take(self, limit: int) -> bool:
        """Count one call; False (and nothing counted) when the limit is already spent."""
        with self._lock:
            self._expire()
            if len(self._calls) >= limit:
                return False
            self._calls.append(self._clock())
            return True

    def reset(self, used: int = 0) -> None:
        """Forget the calls made (or pretend ``used`` were just made)."""
        with self._lock:
            now = self._clock()
            self._calls = deque([now] * used)
