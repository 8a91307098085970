"""Status: is the worker alive, how far behind is it, and what needs a person.

``mapsync status`` answers an admin ("when did it last sync, what failed, how much API did
it use") and a platform health check (exit 1 when the worker looks unhealthy). Everything
comes from the store except today's API usage (requests, Bulk batches and Bulk query jobs),
which costs one call to ``/limits``.

Lag is measured on the read side: every committed cycle advances each object's watermark
and stamps it, so *now minus the oldest watermark's stamp* is how long changes made in
Salesforce may have gone unseen. (The watermark's own ``SystemModstamp`` is the newest change
seen, which on a quiet org stays old while the worker is perfectly healthy; it is shown too.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select

from sync.cycle.first_cycle_push import CHECKPOINT as FIRST_CYCLE
from sync.store import Store
from sync.store.models import lease_table, run_table, watermark_table
from sync.store.records import ACTIVE_DEAD_LETTER_STATUSES, RunKind

DEFAULT_MAX_LAG = dt.timedelta(minutes=15)
DEFAULT_MAX_HEARTBEAT_AGE = dt.timedelta(minutes=2)


@dataclass
class RunLine:
    id: int
    kind: str
    started_at: str
    seconds: float | None
    outcome: str
    api_calls: int
    counts: dict[str, Any]
    error: str | None


@dataclass
class Status:
    """One org's health, as ``mapsync status`` prints it (``--json`` verbatim)."""

    org_id: str
    now: str
    healthy: bool = True
    problems: list[str] = field(default_factory=list)
    runs: list[RunLine] = field(default_factory=list)
    lag_seconds: float | None = None
    newest_change_seen: str | None = None
    api_usage: dict[str, Any] | None = None
    dead_letters: dict[str, int] = field(default_factory=dict)
    dead_letters_by_code: dict[str, int] = field(default_factory=dict)
    # the same active letters by (code, message): a customer's validation rules share one
    # code, their messages tell which rule refused
    dead_letters_by_reason: list[dict[str, Any]] = field(default_factory=list)
    lease_holder: str | None = None
    heartbeat_age_seconds: float | None = None
    backfills: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def api_usage_from_limits(limits: dict[str, Any]) -> dict[str, Any] | None:
    """Today's API requests against the daily limit, from ``GET /limits``, with the day's
    Bulk batches (``bulk_batches``: Bulk API 1.0 and 2.0 together, a 2.0 ingest job one per
    10,000 records) and Bulk API 2.0 query jobs (``bulk_query_jobs``) when Salesforce
    reports them: a large backfill spends those before it spends requests."""
    daily = limits.get("DailyApiRequests")
    if not daily:
        return None
    used = int(daily["Max"]) - int(daily["Remaining"])
    return {"used": used, "max": int(daily["Max"]),
            "share": round(used / int(daily["Max"]), 4) if daily["Max"] else None,
            "bulk_batches": _used(limits.get("DailyBulkApiBatches")),
            "bulk_query_jobs": _used(limits.get("DailyBulkV2QueryJobs"))}


def _used(pair: Any) -> dict[str, int] | None:
    """``{"used", "max"}`` of one ``/limits`` entry (``Max``, ``Remaining``), if it is one."""
    try:
        most, left = int(pair["Max"]), int(pair["Remaining"])
    except (TypeError, KeyError, ValueError):
        return None
    return {"used": most - left, "max": most}


def orgs_in_store(store: Store) -> list[str]:
    """The orgs the store has runs or a lease for, the most recently run first.

    ``status --no-api`` answers from the store alone, so it learns the org's Id here rather
    than from a login (which costs a call, and hangs when Salesforce cannot be reached).
    """
    with store.transaction(write=False) as tx:
        r = run_table.c
        latest = func.max(r.started_at)
        ran = [row[0] for row in tx.connection.execute(
            select(r.org_id, latest).group_by(r.org_id).order_by(latest.desc()))]
        leased = [row[0] for row in tx.connection.execute(select(lease_table.c.org_id))]
    return ran + sorted(set(leased) - set(ran))


def lag(store: Store, org_id: str, now: dt.datetime) -> tuple[float | None, str | None]:
    """(seconds since the oldest watermark was advanced, the newest change seen)."""
    with store.transaction(write=False) as tx:
        w = watermark_table.c
        row = tx.connection.execute(
            select(func.min(w.updated_at), func.max(w.systemmodstamp))
            .where(w.org_id == org_id)).first()
    if row is None or row[0] is None:
        return None, None
    oldest = _aware(row[0])
    return max((now - oldest).total_seconds(), 0.0), _aware(row[1]).isoformat()


def collect(store: Store, org_id: str, *, now: dt.datetime,
            limits: dict[str, Any] | None = None, runs: int = 10,
            max_lag: dt.timedelta = DEFAULT_MAX_LAG,
            max_heartbeat_age: dt.timedelta = DEFAULT_MAX_HEARTBEAT_AGE) -> Status:
    """Read the store (and the given ``/limits`` answer) into a :class:`Status`."""
    status = Status(org_id=org_id, now=now.isoformat())
    with store.transaction(write=False) as tx:
        for run in tx.latest_runs(org_id, runs):
            seconds = ((run.finished_at - run.started_at).total_seconds()
                       if run.finished_at else None)
            status.runs.append(RunLine(run.id, run.kind.value, run.started_at.isoformat(),
                                       seconds, run.outcome.value, run.api_calls, run.counts,
                                       run.error))
        status.dead_letters = {s.value: n for s, n in tx.dead_letter_counts(org_id).items()}
        codes: Counter[str] = Counter()
        reasons: Counter[tuple[str, str]] = Counter()
        for s in ACTIVE_DEAD_LETTER_STATUSES:
            for letter in tx.dead_letters(org_id, status=s):
                code = letter.error_code or "UNKNOWN_ERROR"
                codes[code] += 1
                reasons[(code, letter.error_message)] += 1
        status.dead_letters_by_code = dict(codes.most_common())
        status.dead_letters_by_reason = [{"code": c, "message": m, "count": n}
                                         for (c, m), n in reasons.most_common()]
        status.backfills = [
            {"id": cp.backfill_id, "status": cp.status.value, "parameters": cp.parameters,
             "done": cp.counts.get("done", 0), "updated_at": cp.updated_at.isoformat()}
            for cp in tx.resumable_backfills(org_id)
            if not cp.backfill_id.startswith(FIRST_CYCLE)]  # (a first cycle's push)
        cycles = tx.latest_runs(org_id, 1, RunKind.CYCLE)
    status.lag_seconds, status.newest_change_seen = lag(store, org_id, now)
    if limits is not None:
        status.api_usage = api_usage_from_limits(limits)
    lease = store.lease(org_id)
    if lease is not None and _aware(lease.expires_at) > now:
        status.lease_holder = lease.holder
        status.heartbeat_age_seconds = max((now - _aware(lease.heartbeat_at)).total_seconds(),
                                           0.0)
    _judge(status, bool(cycles), max_lag, max_heartbeat_age)
    return status


def _judge(status: Status, ever_cycled: bool, max_lag: dt.timedelta,
           max_heartbeat_age: dt.timedelta) -> None:
    if status.heartbeat_age_seconds is None:
        status.problems.append("no worker holds the lease: is `mapsync worker` running?")
    elif status.heartbeat_age_seconds > max_heartbeat_age.total_seconds():
        status.problems.append(f"the worker's last heartbeat is "
                               f"{status.heartbeat_age_seconds:.0f} s old")
    if not ever_cycled or status.lag_seconds is None:
        status.problems.append("no sync cycle has completed yet")
    elif status.lag_seconds > max_lag.total_seconds():
        status.problems.append(f"lag {status.lag_seconds:.0f} s is over "
                               f"{max_lag.total_seconds():.0f} s")
    status.healthy = not status.problems


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
