"""Decide: from what was gathered to the writes a chunk needs. Pure: no I/O, no clock.

For each touched Opportunity: a deleted Opportunity's plan goes; a plan a rep deleted gets a
tombstone and is not recreated; otherwise the planner says what the plan should be and
``sync.cycle.changes`` keeps, by field ownership, only the fields Salesforce does not hold
yet, and ``sync.cycle.tasks`` what the milestones' Tasks need (a Task a rep completed is the
rep's word on its milestone, read before planning like a rep's edit of the milestone).
One Opportunity that the planner cannot plan becomes a failure of its own (a dead letter
with the exception and the input), never the chunk's.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from mappings.model import StageMapping
from sync.cycle.changes import PlanChanges, plan_changes
from sync.cycle.gather import Gathered
from sync.cycle.report import SAMPLE_PLANS
from sync.cycle.retire import retire
from sync.cycle.sobjects import MILESTONE_OBJECT, PLAN_OBJECT, milestone_external_id
from sync.cycle.tasks import add_task_changes, task_completions
from sync.planner.model import DesiredPlan, Opportunity, PlanState
from sync.planner.planner import Planner


@dataclass(frozen=True)
class PlanningFailure:
    """An Opportunity the planner could not plan, with what it was given."""

    opportunity_id: str
    code: str
    message: str
    record: dict[str, Any]


@dataclass
class Decisions:
    """Everything a chunk decided before pushing."""

    changes: list[PlanChanges] = field(default_factory=list)
    delete_plans: dict[str, str] = field(default_factory=dict)  # opp id -> plan Id
    # milestones a mapping applied on purpose no longer has: external id -> milestone Id
    delete_milestones: dict[str, str] = field(default_factory=dict)
    kept_milestones: set[str] = field(default_factory=set)  # ... kept Skipped: a rep's work
    tombstones: dict[str, str | None] = field(default_factory=dict)  # opp id -> deleted by
    forget: set[str] = field(default_factory=set)  # opp ids whose local state goes
    failures: list[PlanningFailure] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    owner_unknown: int = 0
    sample: dict[str, DesiredPlan] = field(default_factory=dict)


def decide(gathered: Gathered, planner: Planner, me: str | None,
           today: dt.date) -> Decisions:
    """The writes, deletions, tombstones and skips for every Opportunity gathered."""
    out = Decisions()
    with collection_paused():
        for opp_id in gathered.touched:
            try:
                _decide_one(opp_id, gathered, planner, me, today, out)
            except Exception as err:  # one Opportunity never takes its chunk down
                record = gathered.opportunities.get(opp_id) or {"Id": opp_id}
                out.failures.append(PlanningFailure(opp_id, type(err).__name__,
                                                    f"cannot plan {opp_id}: {err}",
                                                    dict(record)))
    return out


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a chunk is decided, on again after.

    Planning allocates millions of small objects, and every few thousand the collector walks
    the older ones: everything the worker holds (the chunk's records, the planner's memos).
    That walk cost half of the planner's time, for nothing: plans are frozen values without
    reference cycles, freed by reference counting as soon as they are let go. The collector
    runs as usual between chunks, so a chunk's cyclic garbage (if any) waits one chunk.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _decide_one(opp_id: str, g: Gathered, planner: Planner, me: str | None,
                today: dt.date, out: Decisions) -> None:
    record = g.opportunities.get(opp_id)
    plan_record = g.plans.get(opp_id)
    if record is None or record.get("IsDeleted"):
        entry = g.index.get(opp_id)
        plan_id = (plan_record or {}).get("Id") or (entry.plan_id if entry else None)
        if plan_id:
            out.delete_plans[opp_id] = str(plan_id)
        out.forget.add(opp_id)
        return
    if opp_id in g.tombstoned:
        out.skipped["tombstoned"] += 1
        return
    gone = g.deleted_plans.get(opp_id)
    if plan_record is None and gone is not None and gone.get("LastModifiedById") != me:
        out.tombstones[opp_id] = gone.get("LastModifiedById")
        out.forget.add(opp_id)
        out.skipped["plan deleted by a rep"] += 1
        return
    ms_records = g.milestones.get(opp_id, {})
    tasks = g.tasks.get(opp_id, {})
    done_in_tasks = task_completions(opp_id, ms_records, tasks, g.shadows, g.rep_set_at, me)

    def reps_of(rec: dict[str, Any]) -> dict[str, Any]:
        own = g.rep_values.get(str(rec.get("Id")), {})
        done = done_in_tasks.get(str(rec.get("Id")))
        return {**own, **done} if done else own

    state = None
    if plan_record is not None:
        state = PlanState.from_records(
            plan_record, g.shadows.get((PLAN_OBJECT, opp_id), {}),
            [(rec, g.shadows.get((MILESTONE_OBJECT, milestone_external_id(opp_id, key)), {}),
              reps_of(rec)) for key, rec in ms_records.items()], mapsync_user=me)
        state = replace(state, deleted=deleted_milestones(planner.mapping, g, opp_id, state,
                                                          me))
    opportunity = replace(Opportunity.from_record({**record, "OpportunityContactRoles": None}),
                          contact_roles=tuple(g.contact_roles.get(opp_id, ())),
                          team=tuple(g.team.get(opp_id, ())))
    desired = planner.plan(opportunity, state, today)
    if desired is None:
        out.skipped[skip_reason(planner.mapping, opportunity)] += 1
        return
    if len(out.sample) < SAMPLE_PLANS:
        out.sample[opp_id] = desired
    deleted_ms = state.deleted if state is not None else frozenset()
    restore = {key: frozenset(reps_of(rec)) for key, rec in ms_records.items()}
    changes = plan_changes(desired, record, plan_record, ms_records, g.shadows, deleted_ms,
                           restore)
    spec = planner.mapping.tasks_for(desired.template)
    if spec.sides or tasks:
        add_task_changes(changes, desired, record, ms_records, tasks,
                         frozenset(g.deleted_tasks), g.shadows, spec, me, deleted_ms)
    if plan_record is None:
        out.owner_unknown += sum(1 for m in desired.milestones
                                 if m.side != "Seller" and not m.owner_contact_id)
    template = planner.mapping.template(desired.template)
    if planner.roll_out and state is not None and template is not None:  # mappings apply
        keys = {m.key for m in template.milestones}
        out.delete_milestones.update(retire(changes, state, keys, ms_records, g.shadows,
                                             out.kept_milestones))
    if plan_record is not None and changes.plan is None and not changes.milestones \
            and not changes.tasks:
        out.unchanged += 1
    out.changes.append(changes)


def deleted_milestones(mapping: StageMapping, g: Gathered, opp_id: str,
                       state: PlanState, me: str | None) -> frozenset[str]:
    """Keys of the plan's template milestones a rep deleted: Salesforce's recycle bin says a
    rep deleted it, or mapsync wrote it (the shadow has it) and Salesforce no longer does.
    The planner neither recreates nor counts them."""
    template = mapping.template(state.own_template or "")
    if template is None:
        return frozenset()
    by_rep = {key for key, row in g.deleted_milestones.get(opp_id, {}).items()
              if row.get("LastModifiedById") != me}
    return frozenset(
        spec.key for spec in template.milestones
        if spec.key not in state.milestones
        and (spec.key in by_rep
             or (MILESTONE_OBJECT, milestone_external_id(opp_id, spec.key)) in g.shadows))


SKIP_UNMAPPED_STAGE = "stage not in the mapping"
SKIP_BEFORE_PLAN_STAGE = "before plan stage"
SKIP_LOST_BEFORE_PLAN = "closed lost before a plan existed"
SKIP_NO_TEMPLATE = "no mapping template"
SKIP_NO_CLOSE_DATE = "no close date"


def skip_reason(mapping: StageMapping, opportunity: Opportunity) -> str:
    """Why the planner gave ``opportunity`` (which has no plan) none: the first of the
    planner's own conditions that fails, in its order."""
    stages = [s.casefold() for s in mapping.stages]
    stage = opportunity.stage.casefold()
    if stage == mapping.closed_lost.casefold():
        return SKIP_LOST_BEFORE_PLAN
    if stage not in stages:
        return SKIP_UNMAPPED_STAGE
    create_at = mapping.create_at.casefold()
    if create_at in stages and stages.index(stage) < stages.index(create_at):
        return SKIP_BEFORE_PLAN_STAGE
    if opportunity.close_date is None:
        return SKIP_NO_CLOSE_DATE
    if mapping.select_template(opportunity.rule_fields()) is None:
        return SKIP_NO_TEMPLATE
    return SKIP_BEFORE_PLAN_STAGE
