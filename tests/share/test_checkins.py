"""Check-in Tasks against the local org: one open check-in on the cadence, the next one once
a rep completes it, the plan's own cadence over the template's, none without a cadence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from connectors.emulator.server import Emulator
from sync.jobs.checkins import keep_check_ins
from tests.share.conftest import sharing_mapping
from tests.sync.world import TODAY, World


def _check_ins(world: World, opp: str) -> list[dict[str, Any]]:
    return world.query(f"SELECT Id, Subject, ActivityDate, IsClosed, OwnerId, Description "
                       f"FROM Task WHERE WhatId = '{opp}' AND MAP_External_Id__c = null "
                       "ORDER BY ActivityDate")  # not the milestones' Tasks


def _plan_id(world: World, opp: str) -> str:
    return world.query(f"SELECT Id FROM Mutual_Action_Plan__c WHERE Opportunity__c = '{opp}'")[
        0]["Id"]


def _day(days: int) -> str:
    return (TODAY + dt.timedelta(days=days)).isoformat()


def test_a_plan_gets_one_check_in_for_its_owner_a_cadence_out(world: World) -> None:
    opp = world.opportunity(name="Initech Platform")
    world.cycle()
    assert keep_check_ins(world.sync).scheduled == 1
    assert keep_check_ins(world.sync).scheduled == 0  # one open check-in, never two
    [task] = _check_ins(world, opp)
    assert task["Subject"] == "MAP check-in: Initech Platform"
    assert task["ActivityDate"] == _day(7)
    assert task["OwnerId"] == world.rep_id
    assert not task["IsClosed"]
    buyer_items = world.query(f"SELECT Name FROM MAP_Milestone__c WHERE Plan__r.Opportunity__c"
                              f" = '{opp}' AND Owner_Side__c = 'Buyer' AND Status__c != 'Done'")
    assert buyer_items
    for item in buyer_items:
        assert item["Name"] in task["Description"]


def test_completing_a_check_in_schedules_the_next_on_the_cadence(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    keep_check_ins(world.sync)
    first = _check_ins(world, opp)[0]
    world.edit("Task", first["Id"], Status="Completed")
    assert keep_check_ins(world.sync).scheduled == 1
    tasks = _check_ins(world, opp)
    assert [(t["ActivityDate"], t["IsClosed"]) for t in tasks] == [(_day(7), True),
                                                                    (_day(14), False)]


def test_the_plans_cadence_overrides_the_templates(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    world.edit("Mutual_Action_Plan__c", _plan_id(world, opp), Check_In_Cadence__c="Monthly")
    keep_check_ins(world.sync)
    assert [t["ActivityDate"] for t in _check_ins(world, opp)] == [_day(28)]


def test_no_check_ins_removes_the_open_one(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    keep_check_ins(world.sync)
    world.edit("Mutual_Action_Plan__c", _plan_id(world, opp), Check_In_Cadence__c="No check-ins")
    report = keep_check_ins(world.sync)
    assert (report.scheduled, report.removed) == (0, 1)
    assert _check_ins(world, opp) == []


def test_a_template_without_a_cadence_gets_no_check_ins(emulator: Emulator,
                                                       tmp_path: Path) -> None:
    world = World(emulator, tmp_path, mapping=sharing_mapping(check_in=None))
    opp = world.opportunity()
    world.cycle()
    assert keep_check_ins(world.sync).scheduled == 0
    assert _check_ins(world, opp) == []


def test_an_open_check_in_follows_the_plan(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    keep_check_ins(world.sync)
    buyer = world.query(f"SELECT Id, Name FROM MAP_Milestone__c WHERE Plan__r.Opportunity__c"
                        f" = '{opp}' AND Owner_Side__c = 'Buyer' LIMIT 1")[0]
    world.edit("MAP_Milestone__c", buyer["Id"], Status__c="Done", Completed_Date__c=_day(0))
    assert keep_check_ins(world.sync).refreshed == 1
    assert buyer["Name"] not in _check_ins(world, opp)[0]["Description"]
