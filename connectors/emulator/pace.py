"""The org's pace: its profile applied while it runs (delays, long requests, Bulk timing).

``Profile`` says how slow the org should be; ``Pace`` makes it so. It draws each call's
latency from one seeded generator of its own (turning the profile on does not shift the
fault knobs' draws), tracks the requests in flight so the concurrency rules can refuse a new
one as Salesforce does, counts the records each request writes (through the store's
``after_batch`` hook, tied to the request by a context variable, which Composite
subrequests share with their enclosing request), and lets Bulk jobs sleep through their
modelled time, waking at once when the org closes.
"""

from __future__ import annotations

import contextvars
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from connectors.emulator.errors import ApiError
from connectors.emulator.profile import Profile, Spread

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class Ticket:
    """One request in flight: when it started, whether it may write, what it has written."""

    serial: int
    started: float
    may_write: bool
    written: int = 0


_CURRENT: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "emulator_request", default=None)


class Pace:
    """The running side of the org's ``Profile`` (thread-safe)."""

    def __init__(self, profile: Callable[[], Profile],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._profile = profile
        self._clock = clock
        self._rng = random.Random(profile().seed)
        self._seeded = profile().seed
        self._lock = threading.Lock()
        self._in_flight: dict[int, Ticket] = {}
        self._serials = itertools.count(1)
        self._closed = threading.Event()

    @property
    def profile(self) -> Profile:
        return self._profile()

    # ---- draws ------------------------------------------------------------------------

    def draw(self, spread: Spread) -> float:
        """Seconds (already scaled) drawn from ``spread``; no draw for a nothing spread."""
        if spread.median <= 0:
            return 0.0
        profile = self.profile
        with self._lock:
            if profile.seed != self._seeded:
                self._rng.seed(profile.seed)
                self._seeded = profile.seed
            gauss = self._rng.gauss(0.0, 1.0) if spread.sigma else 0.0
        return profile.scaled(spread.draw(gauss))

    def latency(self) -> float:
        return self.draw(self.profile.latency)

    def write_cost(self, records: int) -> float:
        profile = self.profile
        return profile.scaled(records * profile.write_ms_per_record / 1000)

    # ---- requests in flight ---------------------------------------------------------

    def enter(self, method: str, path: str) -> Ticket:
        """Count a request as in flight (``leave`` it once answered)."""
        # Bulk jobs are processed asynchronously: creating or closing one runs no Apex
        may_write = method.upper() in WRITE_METHODS and "/jobs/" not in path + "/"
        ticket = Ticket(next(self._serials), self._clock(), may_write)
        with self._lock:
            self._in_flight[ticket.serial] = ticket
        _CURRENT.set(ticket)
        return ticket

    def leave(self, ticket: Ticket) -> None:
        with self._lock:
            self._in_flight.pop(ticket.serial, None)

    def admit(self, ticket: Ticket) -> None:
        """Raise Salesforce's REQUEST_LIMIT_EXCEEDED when a concurrency rule is at its limit."""
        profile = self.profile
        now = self._clock()
        with self._lock:
            others = [t for t in self._in_flight.values() if t.serial != ticket.serial]
        for rule in profile.long_requests:
            if rule.writes_only and not ticket.may_write:
                continue
            threshold = profile.scaled(rule.seconds)
            running = sum(1 for t in others if now - t.started >= threshold
                          and (not rule.writes_only or t.written > 0))
            if running >= rule.limit:
                raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", rule.message)

    @staticmethod
    def count_written(records: int) -> None:
        """The store's ``after_batch`` hook: records written by the current request."""
        ticket = _CURRENT.get()
        if ticket is not None:
            ticket.written += records

    # ---- Bulk jobs ----------------------------------------------------------------------

    def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` (already scaled); False when the org closed meanwhile."""
        if seconds > 0:
            self._closed.wait(seconds)
        return not self._closed.is_set()

    def sleep_until(self, deadline: float) -> bool:
        return self.sleep(deadline - self._clock())

    def now(self) -> float:
        return self._clock()

    def bulk_seconds(self, count: int, per_second: float) -> float:
        """Scaled seconds to process ``count`` records at ``per_second`` (0: no time)."""
        return self.profile.scaled(count / per_second) if per_second > 0 else 0.0

    def close(self) -> None:
        self._closed.set()
