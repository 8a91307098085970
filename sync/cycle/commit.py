"""Commit: what a chunk's push means for the local store, in one transaction.

Only once the push outcome is known: the shadow of every record that landed (what mapsync
wrote, so a later difference is a rep's edit), the plan index, tombstones, dead letters for
every refused record and every Opportunity that could not be planned, letters resolved by a
write that landed, the forgotten state of deleted Opportunities, the watermarks (with the
last chunk of a cycle only) and the run record. A crash before this transaction repeats the
chunk on the next run; upserts by external id make the repeat land on the same records.
The run's commit guard runs first inside the transaction: a worker that lost its lease
commits nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sync.cycle.decide import Decisions
from sync.cycle.push import PushResult
from sync.cycle.report import SAMPLE_PLANS, PlanChangeLine, RunReport
from sync.cycle.run import Run
from sync.cycle.shadowing import shadow_of
from sync.cycle.sobjects import (
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_OBJECT,
    SYNCED_OBJECTS,
    TASK,
    TASK_ID_FIELD,
)
from sync.store import Transaction
from sync.store.records import DeadLetterStatus, PlanIndexEntry, ShadowWrite, Watermark

OnCommit = Callable[[Transaction], None]


def tally(report: RunReport, decisions: Decisions, result: PushResult) -> None:
    """Add what a chunk decided and what its push did to the run's report."""
    for reason, n in decisions.skipped.items():
        report.skip(reason, n)
    report.plans_unchanged += decisions.unchanged
    report.owner_unknown += decisions.owner_unknown
    for opp_id, plan in decisions.sample.items():
        if len(report.plans) < SAMPLE_PLANS:
            report.plans.setdefault(opp_id, plan)
    for change, res in result.written:
        if change.sobject == PLAN_OBJECT:
            if res.created:
                report.plans_created += 1
            else:
                report.plans_updated += 1
        elif change.sobject == MILESTONE_OBJECT:
            report.milestones_written += int(set(change.fields) != {TASK_ID_FIELD})  # a link
        elif change.sobject == TASK:
            report.tasks_written += 1
        else:
            report.rollups_written += 1
    report.plans_updated += sum(1 for c in decisions.changes if c.plan is None and c.milestones)
    report.plans_deleted += sum(1 for r in result.deleted if r.success)
    report.dead_letters += len(result.failed) + len(decisions.failures)


def tally_dry(report: RunReport, decisions: Decisions) -> None:
    """A dry run's counts: what a real run would create, update or leave alone."""
    tally(report, decisions, PushResult())  # skips, and plans with milestone changes only
    for c in decisions.changes:
        if c.plan is not None and c.plan.created:
            report.plans_created += 1
        elif c.plan is not None:
            report.plans_updated += 1
        report.milestones_written += len(c.milestones)
        report.rollups_written += int(c.rollup is not None)
        report.tasks_written += len(c.tasks)
        if (c.plan is not None or c.milestones) and len(report.would_change) < SAMPLE_PLANS:
            report.would_change.append(PlanChangeLine(
                c.opportunity_id, c.plan is not None and c.plan.created,
                tuple(sorted(c.plan.fields)) if c.plan is not None else (), len(c.milestones)))
    report.plans_deleted += len(decisions.delete_plans)


def commit(run: Run, decisions: Decisions, result: PushResult, *,
           marks: Mapping[str, Watermark | None] | None, final: bool = True,
           on_commit: OnCommit | None = None) -> None:
    """Record ``result`` in the store; ``marks`` and ``on_commit`` only for a complete push."""
    org = run.org_id
    written = {(c.sobject, c.key): r.id for c, r in result.written}
    attempted = {(c.sobject, c.key) for pc in decisions.changes
                 for c in (pc.plan, pc.rollup, *pc.milestones, *pc.tasks) if c is not None}
    with run.store.transaction() as tx:
        if run.control.guard is not None:
            run.control.guard(tx)
        writes: dict[str, list[ShadowWrite]] = {obj: [] for obj in (*SYNCED_OBJECTS, TASK)}
        entries = []
        for pc in decisions.changes:
            for (obj, key), fields in pc.shadows.items():
                if (obj, key) in attempted and (obj, key) not in written:
                    continue  # refused, or not known to have landed
                writes[obj].append(ShadowWrite(key, written.get((obj, key)),
                                               shadow_of(obj, fields)))
            plan_id = written.get((PLAN_OBJECT, pc.opportunity_id)) or pc.plan_id
            if plan_id:
                entries.append(PlanIndexEntry(pc.opportunity_id, plan_id))
        for obj, rows in writes.items():
            if rows:
                tx.put_shadows(org, obj, rows)
        if entries:
            tx.put_plan_indexes(org, entries)
        _settle_letters(tx, org, decisions, result)
        for opp_id, by in decisions.tombstones.items():
            tx.add_tombstone(org, opp_id, deleted_by=by)
        retired = [key for key, result in zip(
            decisions.delete_milestones, result.deleted[len(decisions.delete_plans):],
            strict=False) if result.success]
        if retired:  # a key the mapping brings back later is new, not a rep's deletion
            tx.delete_shadow(org, MILESTONE_OBJECT, retired)
        if decisions.forget:
            gone = sorted(decisions.forget)
            tx.delete_plan_index(org, gone)
            tx.delete_shadow(org, PLAN_OBJECT, gone)
            tx.delete_shadow(org, OPPORTUNITY, gone)
        if marks is not None:
            for obj, mark in marks.items():
                if mark is not None:
                    tx.set_watermark(org, obj, mark)
        if on_commit is not None:
            on_commit(tx)
        if final:
            run.finish(tx)  # the run record lands with the data it describes


def _settle_letters(tx: Transaction, org: str, decisions: Decisions,
                    result: PushResult) -> None:
    landed = {(c.sobject, c.key) for c, _ in result.written}
    if landed:
        for letter in tx.dead_letters(org, status=DeadLetterStatus.OPEN):
            if (letter.object_name, letter.external_id) in landed:
                tx.resolve_dead_letter(letter.id)
    for failure in result.failed:
        tx.add_dead_letter(org, failure.change.sobject, failure.change.key, "upsert",
                           failure.change.payload(), failure.code, failure.message)
    for planning in decisions.failures:
        tx.add_dead_letter(org, OPPORTUNITY, planning.opportunity_id, "plan",
                           planning.record, planning.code, planning.message)
