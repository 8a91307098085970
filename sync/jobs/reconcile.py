"""The nightly reconcile: re-plan every Opportunity and repair whatever drifted.

The incremental cycle only sees what changed, so three things escape it: records edited or
deleted outside mapsync's view (a data load, an admin's mass update, a rep's edit mapsync
overwrote within the same seconds — see ``sync.cycle.pull``), milestones deleted under mapsync's
own user (a rep's deletion is respected, see :func:`forget_milestones_deleted_outside`), and
the passage of time itself (slip, health and the next due date move as days pass while
nothing in Salesforce changes). Once a night the worker first runs a normal cycle (so plans
reps deleted since the last one are tombstoned, not recreated), then reads every Opportunity
in ``(CreatedDate, Id)`` order — a Bulk API 2.0 query above the threshold, streamed — and
hands batches to :func:`sync.cycle.run_batch`, which compares each desired plan with what
Salesforce holds and writes only the fields that differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from config.batching import batched
from config.logging import get_logger
from connectors.salesforce.soql import quote
from sync.cycle import Org, RunControl, RunReport, run_batch, run_cycle
from sync.cycle.sobjects import MILESTONE_OBJECT
from sync.jobs.selection import Selection, read
from sync.store.records import RunKind, RunOutcome

log = get_logger("mapsync.reconcile")

DEFAULT_BATCH_SIZE = 2_000


def forget_milestones_deleted_outside(org: Org) -> int:
    """Forget what mapsync wrote to milestones deleted under its own user (a data load or an
    admin's cleanup, which the cycle reads as its own echo), so the re-plan recreates them.

    A milestone a *rep* deleted stays deleted: the planner reads a written-then-missing
    milestone as the rep's decision. Salesforce keeps deleted rows 15 days (``queryAll``).
    """
    me = org.salesforce.user_id
    if not me:
        return 0
    soql = (f"SELECT External_Id__c FROM {MILESTONE_OBJECT} WHERE IsDeleted = true "
            f"AND LastModifiedById = {quote(me)}")
    gone = [str(r["External_Id__c"]) for r in org.salesforce.query_all(soql)
            if r.get("External_Id__c")]
    if not gone:
        return 0
    with org.store.transaction() as tx:
        known = list(tx.shadow(org.id, MILESTONE_OBJECT, gone))
        if known:
            tx.delete_shadow(org.id, MILESTONE_OBJECT, known)
    return len(known)


def reconcile(org: Org, *, batch_size: int = DEFAULT_BATCH_SIZE,
              control: RunControl | None = None, dry_run: bool = False,
              progress: Callable[[int, int], None] | None = None) -> RunReport:
    """Re-plan every Opportunity of the org; stop early on the API limit or a stop request.

    The report adds up the runs (a cycle first, then the batches); ``milestones_restored``
    counts the milestones forgotten so that the re-plan recreates them. ``dry_run`` decides
    every batch and writes nothing, neither to Salesforce nor to the store: it leaves out the
    first cycle and the restoring of milestones (both write), so it counts what the batches
    would repair as of the last cycle. ``progress(done, total)`` follows the Opportunities."""
    control = control or RunControl()
    started = time.perf_counter()
    calls_before = org.salesforce.usage.calls
    report = RunReport(kind=RunKind.RECONCILE_DRY_RUN if dry_run else RunKind.RECONCILE)
    first = None
    if not dry_run:
        first = run_cycle(org, control)
        report.add(first)
    if first is None or first.outcome != RunOutcome.RATE_LIMITED.value:
        if not dry_run:
            report.milestones_restored = forget_milestones_deleted_outside(org)
        selection = Selection()
        total = org.salesforce.count(selection.count_soql())
        use_bulk = total > org.salesforce.bulk_threshold
        done = 0
        if progress is not None:
            progress(done, total)
        for batch in batched(read(org.salesforce, selection, None, use_bulk=use_bulk), batch_size):
            if control.stop.requested:
                break
            cycle = run_batch(org, batch, kind=report.kind, control=control, dry_run=dry_run)
            report.add(cycle)
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
            if cycle.outcome == RunOutcome.RATE_LIMITED.value:
                break
    report.api_calls = org.salesforce.usage.calls - calls_before
    report.seconds = time.perf_counter() - started
    log.info("reconcile finished", outcome=report.outcome, dry_run=dry_run,
             touched=report.touched,
             plans_updated=report.plans_updated, milestones_written=report.milestones_written,
             milestones_restored=report.milestones_restored,
             api_calls=report.api_calls, seconds=round(report.seconds, 1))
    return report
