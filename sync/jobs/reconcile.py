"""The nightly reconcile: re-plan every Opportunity and repair whatever drifted.

The incremental cycle only sees what changed, so three things escape it: records edited or
deleted outside mapsync's view (a data load, an admin's mass update, a rep's edit mapsync
overwrote within the same seconds — see ``sync.pull``), milestones deleted under mapsync's
own user (a rep's deletion is respected, see :func:`forget_milestones_deleted_outside`), and
the passage of time itself (slip, health and the next due date move as days pass while
nothing in Salesforce changes). Once a night the worker first runs a normal cycle (so plans
reps deleted since the last one are tombstoned, not recreated), then reads every Opportunity
in ``(CreatedDate, Id)`` order — a Bulk API 2.0 query above the threshold, streamed — and
hands batches to :meth:`SyncEngine.run_batch`, which compares each desired plan with what
Salesforce holds and writes only the fields that differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from config.logging import get_logger
from connectors.salesforce.soql import quote
from sync.cycle.engine import CycleReport, SyncEngine
from sync.cycle.pull import MILESTONE
from sync.jobs.selection import Selection, batches, read
from sync.store.records import RunKind, RunOutcome

log = get_logger("mapsync.reconcile")

DEFAULT_BATCH_SIZE = 2_000


@dataclass
class ReconcileReport:
    """What a reconcile repaired."""

    outcome: str = RunOutcome.SUCCEEDED.value
    opportunities: int = 0
    plans_created: int = 0
    plans_updated: int = 0
    plans_unchanged: int = 0
    milestones_written: int = 0
    dead_letters: int = 0
    milestones_restored: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    runs: list[int] = field(default_factory=list)

    def add(self, cycle: CycleReport, rows: int) -> None:
        self.opportunities += rows
        self.plans_created += cycle.plans_created
        self.plans_updated += cycle.plans_updated
        self.plans_unchanged += cycle.plans_unchanged
        self.milestones_written += cycle.milestones_written
        self.dead_letters += cycle.dead_letters
        if cycle.run_id is not None:
            self.runs.append(cycle.run_id)
        if cycle.outcome != RunOutcome.SUCCEEDED.value and \
                self.outcome == RunOutcome.SUCCEEDED.value:
            self.outcome = cycle.outcome


def forget_milestones_deleted_outside(engine: SyncEngine) -> int:
    """Forget what mapsync wrote to milestones deleted under its own user (a data load or an
    admin's cleanup, which the cycle reads as its own echo), so the re-plan recreates them.

    A milestone a *rep* deleted stays deleted: the planner reads a written-then-missing
    milestone as the rep's decision. Salesforce keeps deleted rows 15 days (``queryAll``).
    """
    me = engine.client.user_id
    if not me:
        return 0
    soql = (f"SELECT External_Id__c FROM {MILESTONE} WHERE IsDeleted = true "
            f"AND LastModifiedById = {quote(me)}")
    gone = [str(r["External_Id__c"]) for r in engine.client.query_all(soql)
            if r.get("External_Id__c")]
    if not gone:
        return 0
    org = engine.org_id
    with engine.store.transaction() as tx:
        known = list(tx.shadow(org, MILESTONE, gone))
        if known:
            tx.delete_shadow(org, MILESTONE, known)
    return len(known)


def reconcile(engine: SyncEngine, *, batch_size: int = DEFAULT_BATCH_SIZE,
              should_stop: Callable[[], bool] = lambda: False) -> ReconcileReport:
    """Re-plan every Opportunity of the org; stop early on the API limit or a stop request."""
    started = time.perf_counter()
    calls_before = engine.client.usage.calls
    report = ReconcileReport()
    first = engine.run_cycle()
    report.add(first, 0)
    if first.outcome != RunOutcome.RATE_LIMITED.value:
        report.milestones_restored = forget_milestones_deleted_outside(engine)
        selection = Selection()
        total = engine.client.count(selection.count_soql())
        use_bulk = total > engine.client.settings.sf_bulk_threshold
        for batch in batches(read(engine.client, selection, None, use_bulk=use_bulk),
                             batch_size):
            if should_stop():
                break
            cycle = engine.run_batch(batch, kind=RunKind.RECONCILE)
            report.add(cycle, len(batch))
            if cycle.outcome == RunOutcome.RATE_LIMITED.value:
                break
    report.api_calls = engine.client.usage.calls - calls_before
    report.seconds = time.perf_counter() - started
    log.info("reconcile finished", outcome=report.outcome, opportunities=report.opportunities,
             plans_updated=report.plans_updated, milestones_written=report.milestones_written,
             milestones_restored=report.milestones_restored,
             api_calls=report.api_calls, seconds=round(report.seconds, 1))
    return report
