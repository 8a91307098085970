"""Performance profiles: how long the local org takes, modelled on a real org's timings.

A benchmark or a polling loop measured against an org that answers in a millisecond and
finishes every Bulk job before the first poll says little about Salesforce. A ``Profile``
says how slow the org is: the latency of each call, the cost of each record written, how
long a Bulk job waits in Salesforce's queue and how fast its batches are processed, and
which concurrent long-running requests Salesforce refuses. Two are named:

``flat``
    nothing added (the ``latency_ms`` knob adds its fixed delay, 50 ms in the benchmarks);
    Bulk jobs run as fast as the org can write.
``realistic``
    what a production org measures: a call takes ~150 ms (median) with a long tail (p99
    ~1 s), a write costs ~5 ms per record (a 200-record Collections upsert ~1.2 s), a Bulk
    job waits seconds in the queue (median 5 s) and an ingest job is processed in batches
    of 10,000 records at 1,000 records/s, a query job at 20,000 rows/s.

Every duration is multiplied by ``time_scale`` (``0.01``: a hundred times faster, for tests)
and every random draw comes from ``seed``, so a run can be replayed. The concurrency rules
apply in every profile, as they do in every org: they only bite when requests run long.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

P99_Z = 2.3263  # the standard normal's 99th percentile


@dataclass(frozen=True)
class LongRequestRule:
    """Salesforce refuses new requests while ``limit`` requests have run ``seconds`` or more.

    ``writes_only``: the rule counts and refuses record writes only (Apex runs in them).
    """

    seconds: float
    limit: int
    message: str
    writes_only: bool = False


# API Request Limits and Allocations: concurrent inbound requests of 20 s or longer,
# 25 on production orgs and sandboxes (5 on Developer Edition and trials)
CONCURRENT_API_REQUESTS = LongRequestRule(
    20.0, 25, "ConcurrentRequests (Concurrent API Requests) Limit exceeded.")
# Apex limits: 10 concurrent synchronous transactions that have run 5 s or more; the local
# org treats every record write as running the customer's triggers (an Apex context)
CONCURRENT_LONG_APEX = LongRequestRule(5.0, 10, "ConcurrentPerOrgLongTxn Limit exceeded.",
                                       writes_only=True)


@dataclass(frozen=True)
class Spread:
    """A log-normal duration in seconds: ``median``, 99th percentile ``p99``, at most ``cap``.

    ``p99 == median`` makes it fixed; a median of 0 makes it nothing.
    """

    median: float = 0.0
    p99: float = 0.0
    cap: float = 0.0

    @property
    def sigma(self) -> float:
        if self.median <= 0 or self.p99 <= self.median:
            return 0.0
        return math.log(self.p99 / self.median) / P99_Z

    def draw(self, gauss: float) -> float:
        """The duration for one standard normal draw ``gauss``."""
        if self.median <= 0:
            return 0.0
        value = self.median * math.exp(self.sigma * gauss)
        return min(value, self.cap) if self.cap > 0 else value


@dataclass(frozen=True)
class Profile:
    """How long the org takes to answer (see the module docstring)."""

    name: str = "flat"
    latency: Spread = Spread()  # every API call, before it is answered
    write_ms_per_record: float = 0.0  # each record a call writes (Collections, Composite, REST)
    bulk_queue: Spread = Spread()  # a Bulk job waits this long before InProgress
    bulk_batch_records: int = 10_000  # Salesforce's internal Bulk ingest batch
    bulk_ingest_per_second: float = 0.0  # records; 0: as fast as the org writes
    bulk_query_per_second: float = 0.0  # rows; 0: as fast as the org reads
    long_requests: tuple[LongRequestRule, ...] = (CONCURRENT_API_REQUESTS, CONCURRENT_LONG_APEX)
    time_scale: float = 1.0
    seed: int = 0

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale

    def changed(self, **kw: object) -> Profile:
        return replace(self, **kw)  # type: ignore[arg-type]


FLAT = Profile()
REALISTIC = Profile(
    name="realistic",
    latency=Spread(median=0.150, p99=1.0, cap=3.0),
    write_ms_per_record=5.0,
    bulk_queue=Spread(median=5.0, p99=60.0, cap=120.0),
    bulk_ingest_per_second=1_000.0,
    bulk_query_per_second=20_000.0,
)
PROFILES = {p.name: p for p in (FLAT, REALISTIC)}


def profile_named(name: str, time_scale: float = 1.0, seed: int = 0) -> Profile:
    """The named profile at ``time_scale`` with ``seed``; ValueError names the known ones."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: choose {' or '.join(PROFILES)}")
    if not time_scale > 0:
        raise ValueError(f"the time scale must be above 0 (got {time_scale})")
    return replace(PROFILES[name], time_scale=time_scale, seed=seed)
