"""One sync cycle: pull → plan → diff → push → commit.

A cycle reads what changed in Salesforce since the watermarks, plans every Opportunity the
changes touch, writes only the fields that differ, and then commits — watermarks, shadow,
plan index, tombstones, dead letters and the run record in one local transaction, only once
the push outcome is known. A crash anywhere before that commit re-runs the same changes next
time; upserts by external id make the repeat safe. When the API quota runs out mid-push the
run stops: what landed is recorded, the watermarks stay, and the next cycle resumes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from config.errors import RateLimitedError
from config.logging import bind_run, get_logger
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import RETRYABLE_CODES
from mappings.model import StageMapping
from sync.cycle.changes import PlanChanges, milestone_external_id, plan_changes
from sync.cycle.pull import (
    MILESTONE,
    OBJECTS,
    OPPORTUNITY,
    PLAN,
    Context,
    opportunity_id_of,
    read_changes,
    read_context,
)
from sync.cycle.push import PushResult, delete, upsert
from sync.cycle.report import SAMPLE_PLANS, CycleReport, StopRequested, mark_stopped
from sync.cycle.watermark import advance, unseen
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import Opportunity, PlanState
from sync.planner.planner import plan
from sync.store import Store
from sync.store.records import (
    DeadLetterStatus,
    PlanIndexEntry,
    RunKind,
    RunOutcome,
    ShadowWrite,
    Watermark,
)

log = get_logger("mapsync.cycle")
CYCLE_RETRIES = 3  # cycles that retry a passing failure; then the dead-letter job backs off
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Work:
    """Everything one cycle decided before pushing."""

    changes: list[PlanChanges] = field(default_factory=list)
    delete_plans: dict[str, str] = field(default_factory=dict)  # opp id -> plan Id
    tombstones: dict[str, str | None] = field(default_factory=dict)  # opp id -> deleted by
    forget: set[str] = field(default_factory=set)  # opp ids whose local state goes


class SyncEngine:
    """Runs cycles for one org: a connector, a store, a mapping and a clock."""

    def __init__(self, client: SalesforceClient, store: Store, mapping: StageMapping, *,
                 lookback: dt.timedelta = dt.timedelta(minutes=5),
                 clock: Clock = utc_now, chunk_size: int = 5000) -> None:
        self.client = client
        self.store = store
        self.mapping = mapping
        self.calendar = BusinessCalendar.from_spec(mapping.calendar)
        self.lookback = lookback
        self.clock = clock
        # Runs first in every commit transaction; raising aborts the commit. The worker
        # fences its commits on its lease with it, so a worker that stalled past its lease
        # never writes over the one that took over.
        self.commit_guard: Callable[[Any], None] | None = None
        # Asked between push steps and chunks; True stops the run at that safe point.
        self.should_stop: Callable[[], bool] | None = None
        self.chunk_size = chunk_size

    @property
    def org_id(self) -> str:
        org = self.client.org_id
        if org is None:
            self.client.connect()
            org = self.client.org_id
        return str(org)

    # --- the cycle -----------------------------------------------------------------------

    def run_cycle(self, *, extra_opportunities: Iterable[str] = (),
                  kind: RunKind = RunKind.CYCLE) -> CycleReport:
        """One incremental cycle (plus any ``extra_opportunities`` to re-plan).

        Never raises for a rate limit (the report says so and the watermarks stay, so the
        next cycle resumes); other errors are recorded on the run and re-raised."""
        extra = list(extra_opportunities)

        def body(org: str, marks: dict[str, Watermark | None], report: CycleReport) -> None:
            self._cycle(org, marks, report, extra + self._retryable_letters(org))

        return self._run(kind, body)

    def run_batch(self, opportunities: Sequence[Mapping[str, Any]], *,
                  kind: RunKind = RunKind.BACKFILL, dry_run: bool = False,
                  recreate_deleted: bool = False,
                  on_commit: Callable[[Any], None] | None = None) -> CycleReport:
        """Plan and push the given Opportunity records, whatever the watermarks say.

        For backfills, the nightly reconcile and dead-letter retries: ``opportunities`` are
        Opportunity rows with at least :data:`sync.pull.OPPORTUNITY_FIELDS`. ``dry_run``
        plans and diffs only (the report counts what would be written); ``recreate_deleted``
        lifts the tombstone of plans reps deleted; ``on_commit(tx)`` runs inside the commit
        transaction (a backfill's checkpoint lands with the data it covers), and only when
        every record of the batch was pushed: a run stopped by the API limit commits what
        landed but no checkpoint, so a resume repeats the batch (upserts make that safe).
        """
        rows = {str(r["Id"]): dict(r) for r in opportunities}

        def body(org: str, marks: dict[str, Watermark | None], report: CycleReport) -> None:
            report.pulled = {OPPORTUNITY: len(rows)}
            report.touched = len(rows)
            if recreate_deleted and not dry_run:
                with self.store.transaction() as tx:
                    for opp_id in tx.tombstoned_ids(org, list(rows)):
                        tx.remove_tombstone(org, opp_id)
            work = self._plan(org, list(rows), {OPPORTUNITY: list(rows.values()), PLAN: [],
                                                MILESTONE: []}, {}, self.client.user_id,
                              report, known_all=True)
            if dry_run:
                _count_planned(work, report)
                return
            self._push_and_commit(org, work, report, marks=None, on_commit=on_commit)

        return self._run(kind, body)

    def _run(self, kind: RunKind,
             body: Callable[[str, dict[str, Watermark | None], CycleReport], None],
             ) -> CycleReport:
        self.client.usage.new_run()
        report = CycleReport(calls_before=self.client.usage.calls)
        org = self.org_id
        with self.store.transaction() as tx:
            report.run_id = tx.start_run(org, kind)
            marks: dict[str, Watermark | None] = dict(tx.watermarks(org))
        with bind_run(run_id=report.run_id, org=org, kind=str(kind)):
            try:
                body(org, marks, report)
            except RateLimitedError as err:
                mark_stopped(report, err)
                log.warning("run stopped: API limit", error=str(err))
            except StopRequested as err:
                mark_stopped(report, err)
                log.info("run stopped at a safe point", error=str(err))
            except Exception as err:
                report.outcome = RunOutcome.FAILED.value
                report.error = f"{type(err).__name__}: {err}"
                self._finish(report)
                log.error("run failed", error=report.error)
                raise
            self._finish(report)
            log.info("run finished", outcome=report.outcome, api_calls=report.api_calls,
                     seconds=round(report.seconds, 2), **report.counts())
        return report

    def _retryable_letters(self, org: str) -> list[str]:
        """Opportunities whose writes failed for a passing reason: the cycle tries again.

        Letters that a retry cannot fix (validation and the like) wait for a person or the
        worker's dead-letter job instead of burning calls every cycle."""
        with self.store.transaction(write=False) as tx:
            letters = tx.dead_letters(org, status=DeadLetterStatus.OPEN)
        return sorted({letter.external_id.split(":", 1)[0] for letter in letters
                       if letter.error_code in RETRYABLE_CODES
                       and letter.attempts < CYCLE_RETRIES})

    def _finish(self, report: CycleReport, tx: Any = None) -> None:
        """Write the run record: inside ``tx`` (the commit) when given, else on its own."""
        report.api_calls = self.client.usage.calls - report.calls_before
        report.seconds = time.perf_counter() - report.started_at
        if report.run_id is None or report.finished:
            return
        if report.dead_letters and report.outcome == RunOutcome.SUCCEEDED.value:
            report.outcome = RunOutcome.PARTIAL.value
        if tx is None:
            with self.store.transaction() as own:
                own.finish_run(report.run_id, report.outcome, report.counts(),
                               report.api_calls, report.error)
        else:
            tx.finish_run(report.run_id, report.outcome, report.counts(), report.api_calls,
                          report.error)
        report.finished = True

    def _cycle(self, org: str, marks: dict[str, Watermark | None], report: CycleReport,
               extra: list[str]) -> None:
        me = self.client.user_id
        changes = read_changes(self.client, marks, self.lookback, me)
        fresh: dict[str, list[Mapping[str, Any]]] = {
            obj: unseen(changes.rows[obj], marks.get(obj)) for obj in OBJECTS
        }
        report.pulled = {obj: len(rows) for obj, rows in fresh.items()}
        touched: dict[str, None] = {}
        for obj in OBJECTS:
            for row in fresh[obj]:
                opp = opportunity_id_of(obj, row)
                if opp:
                    touched[opp] = None
        for opp in extra:
            touched[opp] = None
        new_marks = {obj: advance(marks.get(obj), changes.rows[obj], self.lookback)
                     for obj in OBJECTS}
        report.touched = len(touched)
        ids = list(touched)
        chunks = [ids[i:i + self.chunk_size] for i in range(0, len(ids), self.chunk_size)]
        for n, chunk in enumerate(chunks or [[]]):
            # Opportunities are planned, pushed and committed a chunk at a time, so memory
            # stays flat however many changed; the watermarks move with the last chunk only.
            final = n == max(len(chunks), 1) - 1
            work = _Work()
            if chunk:
                if n:
                    self._check_stop()
                work = self._plan(org, chunk, fresh, marks, me, report, roles=changes.roles)
            self._push_and_commit(org, work, report, marks=new_marks if final else None,
                                  final=final)

    # --- plan ----------------------------------------------------------------------------

    def _plan(self, org: str, touched: list[str], fresh: dict[str, list[Mapping[str, Any]]],
              marks: Mapping[str, Watermark | None], me: str | None,
              report: CycleReport, known_all: bool = False,
              roles: Mapping[str, list[tuple[str, str]]] | None = None) -> _Work:
        pulled_opps = {str(r["Id"]): dict(r) for r in fresh[OPPORTUNITY]}
        deleted_plans = {opportunity_id_of(PLAN, r): r for r in fresh[PLAN] if r.get("IsDeleted")}
        with self.store.transaction(write=False) as tx:
            index = tx.plan_index(org, touched)
            tombstoned = tx.tombstoned_ids(org, touched)
        first_read = marks.get(OPPORTUNITY) is None and not known_all
        known = {o for o in touched if o in index or not first_read}
        known |= {opportunity_id_of(obj, r) or "" for obj in (PLAN, MILESTONE)
                  for r in fresh[obj]}
        need_opps = [o for o in touched if o not in pulled_opps]
        need_plans = [o for o in touched if o in known and o not in tombstoned]
        without_plan = [o for o in touched if o not in index and o not in tombstoned]
        context = read_context(self.client, need_opportunities=need_opps,
                               need_plans=need_plans,
                               need_roles=without_plan if roles is None else [])
        context.opportunities.update(pulled_opps)
        if roles is not None:
            context.contact_roles = {o: roles[o] for o in without_plan if o in roles}
        with self.store.transaction(write=False) as tx:
            shadows = self._shadows(tx, org, touched, context)
        work = _Work()
        today = self.clock().date()
        for opp_id in touched:
            self._plan_one(opp_id, context, shadows, index, tombstoned, deleted_plans, me,
                           today, work, report)
        return work

    def _shadows(self, tx: Any, org: str, touched: list[str],
                 context: Context) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for obj in (PLAN, OPPORTUNITY):
            for ext, rec in tx.shadow(org, obj, touched).items():
                out[(obj, ext)] = rec.fields
        keys = {milestone_external_id(o, k) for o, ms in context.milestones.items() for k in ms}
        for opp_id, plan_record in context.plans.items():
            # Template keys too: a milestone mapsync wrote that Salesforce lacks was deleted
            # by a rep, and the shadow is how that is told apart from one never written.
            template = self.mapping.template(str(plan_record.get("Template__c") or ""))
            for spec in template.milestones if template else ():
                keys.add(milestone_external_id(opp_id, spec.key))
        for ext, rec in tx.shadow(org, MILESTONE, sorted(keys)).items():
            out[(MILESTONE, ext)] = rec.fields
        return out

    def _plan_one(self, opp_id: str, context: Context,
                  shadows: Mapping[tuple[str, str], dict[str, Any]],
                  index: Mapping[str, PlanIndexEntry], tombstoned: set[str],
                  deleted_plans: Mapping[str | None, Mapping[str, Any]], me: str | None,
                  today: dt.date, work: _Work, report: CycleReport) -> None:
        record = context.opportunities.get(opp_id)
        plan_record = context.plans.get(opp_id)
        if record is None or record.get("IsDeleted"):
            plan_id = (plan_record or {}).get("Id") or (index.get(opp_id) or _NO_ENTRY).plan_id
            if plan_id:
                work.delete_plans[opp_id] = str(plan_id)
            work.forget.add(opp_id)
            return
        if opp_id in tombstoned:
            report.skip("tombstoned")
            return
        gone = deleted_plans.get(opp_id)
        if plan_record is None and gone is not None and gone.get("LastModifiedById") != me:
            work.tombstones[opp_id] = gone.get("LastModifiedById")
            work.forget.add(opp_id)
            report.skip("plan deleted by a rep")
            return
        ms_records = context.milestones.get(opp_id, {})
        state = None
        if plan_record is not None:
            state = PlanState.from_records(
                plan_record, shadows.get((PLAN, opp_id), {}),
                [(rec, shadows.get((MILESTONE, milestone_external_id(opp_id, key)), {}))
                 for key, rec in ms_records.items()])
        roles = tuple(context.contact_roles.get(opp_id, ()))
        opportunity = Opportunity.from_record({**record, "OpportunityContactRoles": None})
        opportunity = _with_roles(opportunity, roles)
        desired = plan(opportunity, state, self.mapping, self.calendar, today)
        if desired is None:
            template = self.mapping.select_template(opportunity.rule_fields())
            report.skip("no mapping template" if template is None else "before plan stage")
            return
        if len(report.plans) < SAMPLE_PLANS:
            report.plans[opp_id] = desired
        deleted_ms = frozenset(
            key for key in (m.key for m in desired.milestones)
            if key not in ms_records and plan_record is not None
            and (MILESTONE, milestone_external_id(opp_id, key)) in shadows
        )
        changes = plan_changes(desired, record, plan_record, ms_records, shadows, deleted_ms)
        if plan_record is None:
            report.owner_unknown += sum(1 for m in desired.milestones
                                        if m.side != "Seller" and not m.owner_contact_id)
        if plan_record is not None and changes.plan is None and not changes.milestones:
            report.plans_unchanged += 1
        work.changes.append(changes)

    # --- push ----------------------------------------------------------------------------

    def _push_and_commit(self, org: str, work: _Work, report: CycleReport,
                         marks: Mapping[str, Watermark | None] | None, final: bool = True,
                         on_commit: Callable[[Any], None] | None = None) -> None:
        """Push ``work`` and commit its outcome. A push stopped part-way (API limit, stop
        request, error) still commits what landed, but neither the watermarks nor
        ``on_commit`` (a checkpoint must never claim records the push did not reach), so the
        next run repeats the rest; upserts make that safe."""
        result = PushResult()
        try:
            self._push(work, report, result)
        except BaseException as err:
            mark_stopped(report, err)
            self._commit(org, work, result, report, marks=None)
            raise
        self._commit(org, work, result, report, marks=marks, on_commit=on_commit, final=final)

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise StopRequested("stopped at a safe point on request (shutdown); what landed "
                                "is committed and the rest is repeated by the next run")

    def _push(self, work: _Work, report: CycleReport, result: PushResult) -> None:
        """Write ``work``, filing every record's outcome in ``result`` as it is known, so
        a push stopped between steps (shutdown, API limit) still commits what landed."""
        upsert(self.client, PLAN, [c.plan for c in work.changes if c.plan], result)
        plan_ids = result.ids(PLAN)
        failed_plans = {f.change.key for f in result.failed if f.change.sobject == PLAN}
        milestones = []
        for c in work.changes:
            if c.opportunity_id in failed_plans:
                continue
            for m in c.milestones:
                if m.created:
                    parent = plan_ids.get(c.opportunity_id) or c.plan_id
                    if parent is None:
                        continue
                    m.fields["Plan__c"] = parent
                milestones.append(m)
        self._check_stop()
        upsert(self.client, MILESTONE, milestones, result)
        self._check_stop()
        upsert(self.client, OPPORTUNITY,
               [c.rollup for c in work.changes
                if c.rollup and c.opportunity_id not in failed_plans], result)
        deleted = delete(self.client, list(work.delete_plans.values()))
        report.plans_deleted += sum(1 for r in deleted if r.success)
        for change, res in result.written:
            if change.sobject == PLAN:
                if res.created:
                    report.plans_created += 1
                else:
                    report.plans_updated += 1
            elif change.sobject == MILESTONE:
                report.milestones_written += 1
            else:
                report.rollups_written += 1
        updated_by_children = {c.opportunity_id for c in work.changes
                               if c.plan is None and c.milestones}
        report.plans_updated += len(updated_by_children)
        report.dead_letters += len(result.failed)

    # --- commit --------------------------------------------------------------------------

    def _commit(self, org: str, work: _Work, result: PushResult, report: CycleReport,
                marks: Mapping[str, Watermark | None] | None,
                on_commit: Callable[[Any], None] | None = None, final: bool = True) -> None:
        written = {(c.sobject, c.key): r.id for c, r in result.written}
        attempted = {(c.sobject, c.key) for pc in work.changes
                     for c in (pc.plan, pc.rollup, *pc.milestones) if c is not None}
        with self.store.transaction() as tx:
            if self.commit_guard is not None:
                self.commit_guard(tx)
            writes: dict[str, list[ShadowWrite]] = {obj: [] for obj in OBJECTS}
            entries = []
            for pc in work.changes:
                for (obj, key), fields in pc.shadows.items():
                    if (obj, key) in attempted and (obj, key) not in written:
                        continue  # refused, or not known to have landed
                    writes[obj].append(ShadowWrite(key, written.get((obj, key)), fields))
                plan_id = written.get((PLAN, pc.opportunity_id)) or pc.plan_id
                if plan_id:
                    entries.append(PlanIndexEntry(pc.opportunity_id, plan_id))
            for obj, rows in writes.items():
                if rows:
                    tx.put_shadows(org, obj, rows)
            if entries:
                tx.put_plan_indexes(org, entries)
            landed = {(c.sobject, c.key) for c, _ in result.written}
            if landed:
                for letter in tx.dead_letters(org, status=DeadLetterStatus.OPEN):
                    if (letter.object_name, letter.external_id) in landed:
                        tx.resolve_dead_letter(letter.id)
            for failure in result.failed:
                tx.add_dead_letter(org, failure.change.sobject, failure.change.key, "upsert",
                                   failure.change.payload(), failure.code, failure.message)
            for opp_id, by in work.tombstones.items():
                tx.add_tombstone(org, opp_id, deleted_by=by)
            if work.forget:
                gone = sorted(work.forget)
                tx.delete_plan_index(org, gone)
                tx.delete_shadow(org, PLAN, gone)
                tx.delete_shadow(org, OPPORTUNITY, gone)
            if marks is not None:
                for obj, mark in marks.items():
                    if mark is not None:
                        tx.set_watermark(org, obj, mark)
            if on_commit is not None:
                on_commit(tx)
            if final:
                self._finish(report, tx)  # the run record lands with the data it describes


_NO_ENTRY = PlanIndexEntry("", None)


def _count_planned(work: _Work, report: CycleReport) -> None:
    """A dry run's counts: what a real run would create, update or leave alone."""
    for c in work.changes:
        if c.plan is not None and c.plan.created:
            report.plans_created += 1
        elif c.plan is not None or c.milestones:
            report.plans_updated += 1
        report.milestones_written += len(c.milestones)
        report.rollups_written += int(c.rollup is not None)
    report.plans_deleted += len(work.delete_plans)


def _with_roles(opportunity: Opportunity, roles: tuple[tuple[str, str], ...]) -> Opportunity:
    return replace(opportunity, contact_roles=roles)
