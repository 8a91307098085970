"""Push on its own: the order of writes, what a refused plan holds back, stopping between steps."""

from __future__ import annotations

import datetime as dt

import pytest

from config.errors import StopRequested
from mappings.loader import default_mapping_path, load_mapping
from sync.cycle.decide import Decisions, decide
from sync.cycle.gather import Gathered
from sync.cycle.push import PushResult, write
from sync.cycle.run import RunControl, StopToken
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT
from sync.planner.calendar import BusinessCalendar
from sync.planner.planner import Planner
from tests.cycle.fakes import ME, FakeSalesforce, opportunity

TODAY = dt.date(2030, 1, 2)
OPP_A, OPP_B = "006000000000001AAA", "006000000000002AAA"
MAPPING = load_mapping(default_mapping_path())


def new_plans(*opp_ids: str) -> Decisions:
    planner = Planner(MAPPING, BusinessCalendar.from_spec(MAPPING.calendar))
    gathered = Gathered(list(opp_ids), opportunities={o: opportunity(o) for o in opp_ids})
    return decide(gathered, planner, ME, TODAY)


def test_plans_go_first_then_their_milestones_with_the_plan_ids_then_rollups() -> None:
    sf = FakeSalesforce()
    result = PushResult()
    write(sf, new_plans(OPP_A), RunControl(), result)
    assert [(obj, key) for obj, key, _ in sf.upserts] == [
        (PLAN_OBJECT, "External_Id__c"), ("Task", "MAP_External_Id__c"),
        (MILESTONE_OBJECT, "External_Id__c"), (OPPORTUNITY, "Id")]
    plan_id = result.ids(PLAN_OBJECT)[OPP_A]
    assert {m["Plan__c"] for m in sf.upserts[2][2]} == {plan_id}
    # the seller and joint milestones' Tasks go first: each new Task's Id is then written
    # with its milestone, at no call of its own; a new Task links its plan's record
    tasks = sf.upserts[1][2]
    assert tasks
    assert all(plan_id in t["Description"] for t in tasks)
    task_ids = {c.key: r.id for c, r in result.written if c.sobject == "Task"}
    named = {m["External_Id__c"]: m["Task_Id__c"] for m in sf.upserts[2][2]
             if "Task_Id__c" in m}
    assert named == task_ids
    assert len(result.written) == 1 + len(tasks) + 8 + 1
    assert result.failed == []


def test_a_refused_plan_holds_back_its_milestones_and_rollup_not_the_others() -> None:
    sf = FakeSalesforce(refuse={OPP_A: ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "no plans here")})
    result = PushResult()
    write(sf, new_plans(OPP_A, OPP_B), RunControl(), result)
    [failure] = result.failed
    assert failure.change.key == OPP_A
    assert failure.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    [milestones] = [records for obj, _, records in sf.upserts if obj == MILESTONE_OBJECT]
    assert {m["External_Id__c"].split(":")[0] for m in milestones} == {OPP_B}
    [rollups] = [records for obj, _, records in sf.upserts if obj == OPPORTUNITY]
    assert [r["Id"] for r in rollups] == [OPP_B]
    task_opps = {t["WhatId"] for obj, _, records in sf.upserts if obj == "Task"
                 for t in records}
    assert task_opps == {OPP_B}


def test_a_stop_requested_between_steps_keeps_what_landed_in_the_result() -> None:
    sf = FakeSalesforce()
    token = StopToken()
    steps: list[int] = []

    def before_write() -> None:
        steps.append(1)
        if len(steps) == 2:
            token.request("shutdown")

    result = PushResult()
    with pytest.raises(StopRequested, match="safe point"):
        write(sf, new_plans(OPP_A), RunControl(stop=token, before_write=before_write), result)
    assert [obj for obj, _, _ in sf.upserts] == [PLAN_OBJECT]
    assert list(result.ids(PLAN_OBJECT)) == [OPP_A]


def test_deleted_opportunities_plans_are_deleted_last() -> None:
    sf = FakeSalesforce()
    decisions = Decisions(delete_plans={OPP_A: "a00000000000009AAA"})
    result = PushResult()
    write(sf, decisions, RunControl(), result)
    assert sf.upserts == []
    assert sf.deleted == ["a00000000000009AAA"]
    assert [r.success for r in result.deleted] == [True]
