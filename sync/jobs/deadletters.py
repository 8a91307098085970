"""Dead-letter retries: back off per letter, retry by re-planning, park after too many tries.

A refused write is kept as a dead letter (see ``sync.store.dead_letters``). Many causes go
away by themselves or after an admin fixes something in Salesforce (a validation rule, a
field's access, a picklist value), so the worker retries open letters on a schedule, each
after a delay that doubles with every failed attempt, and parks a letter for a person after
``max_attempts``. A retry re-plans the letter's Opportunity (the external id's part before
``:``) and pushes through :func:`sync.cycle.run_batch`, so what goes out is what the plan
wants now, not a stale payload. The verdict on each letter commits in the same transaction
as the retry's own writes: a letter the retry bumped failed again; one whose Opportunity
had no new failure landed (or has nothing left to write) and is resolved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.batching import batched
from config.logging import get_logger
from sync.cycle import Org, RunControl, RunReport, run_batch
from sync.cycle.sobjects import opportunity_of as _opportunity_of_key
from sync.jobs.selection import ids_soql
from sync.store import Store, Transaction
from sync.store.records import DeadLetter, DeadLetterStatus, RunKind

log = get_logger("mapsync.deadletters")

IDS_PER_READ = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How long an open letter waits before its next automatic retry."""

    base: dt.timedelta = dt.timedelta(minutes=5)
    factor: float = 2.0
    ceiling: dt.timedelta = dt.timedelta(hours=6)
    max_attempts: int = 6

    def delay(self, attempts: int) -> dt.timedelta:
        seconds = self.base.total_seconds() * self.factor ** max(attempts - 1, 0)
        return min(dt.timedelta(seconds=seconds), self.ceiling)

    def is_due(self, letter: DeadLetter, now: dt.datetime) -> bool:
        if letter.status is not DeadLetterStatus.OPEN:
            return False
        if letter.next_attempt_at is not None:  # an admin reopened it: now
            return _aware(letter.next_attempt_at) <= now
        return _aware(letter.last_seen) + self.delay(letter.attempts) <= now


def opportunity_of(letter: DeadLetter) -> str:
    """The Opportunity a letter's record belongs to."""
    return _opportunity_of_key(letter.external_id)


@dataclass
class RetryReport:
    """What a retry decided for each letter, beside the report of the run that retried."""

    resolved: list[int] = field(default_factory=list)
    failed_again: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)
    discarded: list[int] = field(default_factory=list)
    run: RunReport = field(default_factory=lambda: RunReport(kind=RunKind.RETRY))


def due(store: Store, org_id: str, policy: RetryPolicy, now: dt.datetime,
        limit: int = 2_000) -> list[DeadLetter]:
    """Open letters whose backoff has passed, oldest first."""
    with store.transaction(write=False) as tx:
        letters = tx.dead_letters(org_id, status=DeadLetterStatus.OPEN)
    return [letter for letter in letters if policy.is_due(letter, now)][:limit]


def retry(org: Org, letters: Sequence[DeadLetter], policy: RetryPolicy | None = None,
          control: RunControl | None = None) -> RetryReport:
    """Re-plan and push the Opportunities of ``letters``; settle each letter."""
    policy = policy or RetryPolicy()
    report = RetryReport()
    if not letters:
        return report
    org_id = org.id
    with org.store.transaction() as tx:
        for letter in letters:
            if letter.status is DeadLetterStatus.PARKED:
                tx.reopen(letter.id)
    opp_ids = sorted({opportunity_of(letter) for letter in letters})
    rows = _read(org, opp_ids)
    found = {str(r["Id"]) for r in rows}
    gone = [letter for letter in letters if opportunity_of(letter) not in found]
    if gone:
        with org.store.transaction() as tx:
            for letter in gone:
                tx.discard_dead_letter(letter.id, "the Opportunity no longer exists "
                                                  "in Salesforce")
                report.discarded.append(letter.id)
    live = [letter for letter in letters if opportunity_of(letter) in found]
    if not live:
        return report
    started = org.store.now()

    def settle(tx: Transaction) -> None:
        # Same transaction as the retry's shadow and dead-letter writes.
        failing = {opportunity_of(d) for d in tx.dead_letters(org_id, status=DeadLetterStatus.OPEN)
                   if _aware(d.last_seen) >= started}
        for letter in live:
            current = tx.dead_letter(letter.id)
            if current is None or current.status is not DeadLetterStatus.OPEN:
                continue
            if current.attempts > letter.attempts:
                report.failed_again.append(letter.id)
                if current.attempts >= policy.max_attempts:
                    tx.park(letter.id)
                    report.parked.append(letter.id)
            elif opportunity_of(letter) in failing:
                continue  # its plan failed, so this record was not reached: try again later
            else:
                tx.resolve_dead_letter(letter.id)
                report.resolved.append(letter.id)

    live_opps = {opportunity_of(x) for x in live}
    report.run = run_batch(org, [r for r in rows if str(r["Id"]) in live_opps],
                           kind=RunKind.RETRY, control=control, on_commit=settle)
    log.info("dead letters retried", resolved=len(report.resolved),
             failed_again=len(report.failed_again), parked=len(report.parked),
             discarded=len(report.discarded), outcome=report.run.outcome)
    return report


def _read(org: Org, opp_ids: Iterable[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for chunk in batched(opp_ids, IDS_PER_READ):
        rows.extend(dict(r) for r in org.salesforce.query(ids_soql(chunk)))
    return rows


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
