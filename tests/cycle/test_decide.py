"""Decide on its own: pure, from what was gathered to the writes, deletions and skips."""

from __future__ import annotations

import datetime as dt
import gc

import pytest

from mappings.loader import default_mapping_path, load_mapping
from sync.cycle.decide import decide
from sync.cycle.gather import Gathered
from sync.cycle.sobjects import MILESTONE_OBJECT, PLAN_OBJECT, milestone_external_id
from sync.planner.calendar import BusinessCalendar
from sync.planner.planner import Planner
from sync.store.records import PlanIndexEntry
from tests.cycle.fakes import ME, REP, opportunity

TODAY = dt.date(2030, 1, 2)
OPP_A, OPP_B = "006000000000001AAA", "006000000000002AAA"
MAPPING = load_mapping(default_mapping_path())


@pytest.fixture
def planner() -> Planner:
    return Planner(MAPPING, BusinessCalendar.from_spec(MAPPING.calendar))


def test_a_new_opportunity_at_the_plan_stage_gets_a_whole_plan_created(planner: Planner) -> None:
    gathered = Gathered([OPP_A], opportunities={OPP_A: opportunity(OPP_A)})
    decisions = decide(gathered, planner, ME, TODAY)
    [change] = decisions.changes
    assert change.plan is not None
    assert change.plan.created
    assert change.plan.fields["Opportunity__c"] == OPP_A
    assert len(change.milestones) == 8  # the mid-market template
    assert all(m.created for m in change.milestones)
    assert change.rollup is not None
    assert decisions.sample[OPP_A].template == "mid_market"


def test_an_opportunity_before_the_plan_stage_is_skipped_with_that_reason(
        planner: Planner) -> None:
    gathered = Gathered([OPP_A], opportunities={OPP_A: opportunity(OPP_A, stage="Prospecting")})
    decisions = decide(gathered, planner, ME, TODAY)
    assert decisions.changes == []
    assert decisions.skipped == {"before plan stage": 1}


def test_a_deleted_opportunity_has_its_plan_deleted_and_its_state_forgotten(
        planner: Planner) -> None:
    gathered = Gathered([OPP_A], index={OPP_A: PlanIndexEntry(OPP_A, "a00000000000009AAA")})
    decisions = decide(gathered, planner, ME, TODAY)
    assert decisions.delete_plans == {OPP_A: "a00000000000009AAA"}
    assert decisions.forget == {OPP_A}


def test_a_plan_a_rep_deleted_is_tombstoned_not_recreated(planner: Planner) -> None:
    gathered = Gathered([OPP_A], opportunities={OPP_A: opportunity(OPP_A)},
                        deleted_plans={OPP_A: {"External_Id__c": OPP_A, "IsDeleted": True,
                                               "LastModifiedById": REP}})
    decisions = decide(gathered, planner, ME, TODAY)
    assert decisions.changes == []
    assert decisions.tombstones == {OPP_A: REP}
    assert decisions.skipped == {"plan deleted by a rep": 1}


def test_one_opportunity_that_breaks_the_planner_is_a_failure_of_its_own(
        planner: Planner) -> None:
    gathered = Gathered([OPP_A, OPP_B], opportunities={
        OPP_A: opportunity(OPP_A, close="9999-12-31"), OPP_B: opportunity(OPP_B)})
    decisions = decide(gathered, planner, ME, TODAY)
    [failure] = decisions.failures
    assert failure.opportunity_id == OPP_A
    assert OPP_A in failure.message
    assert failure.record["CloseDate"] == "9999-12-31"
    assert [c.opportunity_id for c in decisions.changes] == [OPP_B]


def test_a_rep_pinned_status_is_not_written_back(planner: Planner) -> None:
    first = decide(Gathered([OPP_A], opportunities={OPP_A: opportunity(OPP_A)}), planner, ME,
                   TODAY).changes[0]
    plan = {"Id": "a00000000000001AAA", "External_Id__c": OPP_A,
            **first.shadows[(PLAN_OBJECT, OPP_A)]}
    milestones = {}
    shadows = dict(first.shadows)
    for m in first.milestones:
        key = m.key.split(":", 1)[1]
        milestones[key] = {"Id": f"a01{len(milestones):015d}", "External_Id__c": m.key,
                           **first.shadows[(MILESTONE_OBJECT, m.key)]}
    discovery = milestones["discovery"]
    discovery["Status__c"] = "Blocked"  # the rep's edit: differs from what mapsync wrote
    gathered = Gathered([OPP_A], opportunities={OPP_A: opportunity(OPP_A)},
                        plans={OPP_A: plan}, milestones={OPP_A: milestones}, shadows=shadows,
                        index={OPP_A: PlanIndexEntry(OPP_A, plan["Id"])})
    decisions = decide(gathered, planner, ME, TODAY)
    written = {c.key: c.fields for c in decisions.changes[0].milestones}
    assert "Status__c" not in written.get(milestone_external_id(OPP_A, "discovery"), {})
    assert decisions.sample[OPP_A].milestones[0].status == "Blocked"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"StageName": "Prospecting"}, "before plan stage"),
    ({"StageName": "Closed Lost"}, "closed lost before a plan existed"),
    ({"StageName": "Stalled"}, "stage not in the mapping"),
    ({"CloseDate": None}, "no close date"),
])
def test_a_skipped_opportunity_carries_its_true_reason(
        planner: Planner, fields: dict[str, object], reason: str) -> None:
    gathered = Gathered([OPP_A], opportunities={OPP_A: {**opportunity(OPP_A), **fields}})
    decisions = decide(gathered, planner, ME, TODAY)
    assert dict(decisions.skipped) == {reason: 1}
    assert not decisions.changes


class _Watching(Planner):
    """The real planner, noting whether Python's cyclic collector ran while it planned."""

    collecting: list[bool]

    def plan(self, opportunity, current, today):  # type: ignore[no-untyped-def]
        self.collecting.append(gc.isenabled())
        return super().plan(opportunity, current, today)


def test_a_chunk_is_planned_with_the_cyclic_collector_paused_and_it_runs_again_after() -> None:
    watching = _Watching(MAPPING, BusinessCalendar.from_spec(MAPPING.calendar))
    watching.collecting = []
    gathered = Gathered([OPP_A, OPP_B], opportunities={
        OPP_A: opportunity(OPP_A), OPP_B: opportunity(OPP_B, close="9999-12-31")})
    assert gc.isenabled()
    decisions = decide(gathered, watching, ME, TODAY)
    assert watching.collecting == [False, False]
    assert [f.opportunity_id for f in decisions.failures] == [OPP_B]  # and after a failure
    assert gc.isenabled()
    gc.disable()  # a caller that paused it itself keeps it paused
    try:
        decide(gathered, watching, ME, TODAY)
        assert not gc.isenabled()
    finally:
        gc.enable()
