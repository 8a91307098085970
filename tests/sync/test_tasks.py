"""Seller-side milestones as Tasks, both ways, against the local org.

Each test is a rule of ``sync/cycle/tasks.py``: mapsync keeps a Task for each open seller and
joint milestone, on the Opportunity, for the milestone's owner; a rep working the Task (from
the rep's own session) is read back into the plan, and the plan's changes reach the Task
unless the rep changed that part of it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from mappings.loader import default_mapping_path, load_mapping_text
from sync.cycle import RunControl
from tests.sync.world import TODAY, World

TASK_VIEW = ("SELECT Id, MAP_External_Id__c, Subject, ActivityDate, Status, IsClosed, "
             "OwnerId, WhatId, ReminderDateTime, IsReminderSet, CompletedDateTime, "
             "Description, LastModifiedById FROM Task WHERE WhatId = '{opp}'")


def tasks(world: World, opp: str) -> dict[str, dict[str, Any]]:
    """The plan's Tasks by milestone key."""
    return {str(t["MAP_External_Id__c"]).split(":", 1)[1]: t
            for t in world.query(TASK_VIEW.format(opp=opp)) if t["MAP_External_Id__c"]}


def milestone_rows(world: World, opp: str) -> dict[str, dict[str, Any]]:
    rows = world.query(
        "SELECT Id, Key__c, Name, Status__c, Due_Date__c, Completed_Date__c, Owner_Side__c, "
        "Owner_User__c, Stage__c, Task_Id__c FROM MAP_Milestone__c "
        f"WHERE Plan__r.Opportunity__c = '{opp}'")
    return {r["Key__c"]: r for r in rows}


def open_seller_milestone(world: World, opp: str) -> dict[str, Any]:
    """An open seller milestone that no stage change in these tests completes."""
    return next(m for m in sorted(milestone_rows(world, opp).values(),
                                  key=lambda m: m["Due_Date__c"])
                if m["Owner_Side__c"] == "Seller" and m["Status__c"] != "Done")


def test_each_open_seller_and_joint_milestone_gets_a_task_for_its_owner_due_on_its_due_date(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    owner = world.opportunity_record(opp)["OwnerId"]
    world.cycle()
    plan = world.plan(opp)
    assert plan is not None
    milestones = milestone_rows(world, opp)
    by_key = tasks(world, opp)
    expected = {k for k, m in milestones.items()
                if m["Owner_Side__c"] in ("Seller", "Joint") and m["Status__c"] != "Done"}
    assert expected
    assert set(by_key) == expected
    for key, task in by_key.items():
        m = milestones[key]
        assert task["Subject"] == m["Name"]
        assert task["ActivityDate"] == m["Due_Date__c"]
        assert task["OwnerId"] == (m["Owner_User__c"] or owner)
        assert task["WhatId"] == opp
        assert task["Status"] == "Not Started"
        due = dt.date.fromisoformat(m["Due_Date__c"])
        assert task["IsReminderSet"] is True
        assert task["ReminderDateTime"] == f"{due - dt.timedelta(days=1)}T09:00:00.000+0000"
        assert m["Task_Id__c"] == task["Id"]  # the milestone names its Task
        # a Task written with its new milestone links the plan (the milestone's Id is not
        # known before it is written)
        assert f"/lightning/r/Mutual_Action_Plan__c/{plan['Id']}/view" in task["Description"]
    world.cycle()
    assert {k: t["Id"] for k, t in tasks(world, opp).items()} == \
        {k: t["Id"] for k, t in by_key.items()}, "never a second Task"


def test_a_rep_completing_a_task_completes_its_milestone_pinned_on_the_tasks_day(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    milestone = open_seller_milestone(world, opp)
    task = tasks(world, opp)[milestone["Key__c"]]
    world.edit("Task", task["Id"], Status="Completed")
    world.minutes_later(1)
    world.cycle()
    completed = tasks(world, opp)[milestone["Key__c"]]["CompletedDateTime"]
    after = milestone_rows(world, opp)[milestone["Key__c"]]
    assert after["Status__c"] == "Done"
    assert after["Completed_Date__c"] == completed[:10]
    # pinned: moving the deal back does not reopen what the rep completed
    world.edit("Opportunity", opp, StageName="Prospecting")
    for _ in range(2):
        world.cycle()
    assert milestone_rows(world, opp)[milestone["Key__c"]]["Status__c"] == "Done"
    assert tasks(world, opp)[milestone["Key__c"]]["Status"] == "Completed"


def test_a_milestone_done_by_stage_or_by_a_rep_closes_its_task(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    by_stage = [k for k, m in milestone_rows(world, opp).items()
                if m["Stage__c"] == "Needs Analysis" and k in tasks(world, opp)]
    assert by_stage
    by_rep = open_seller_milestone(world, opp)
    world.edit("MAP_Milestone__c", by_rep["Id"], Status__c="Skipped")
    world.edit("Opportunity", opp, StageName="Value Proposition")
    world.cycle()
    now = tasks(world, opp)
    for key in (*by_stage, by_rep["Key__c"]):
        assert (now[key]["IsClosed"], now[key]["Status"]) == (True, "Completed"), key
        assert now[key]["LastModifiedById"] == world.client.user_id
    # closed by mapsync, not by a rep: the milestones keep their own status and dates
    assert milestone_rows(world, opp)[by_rep["Key__c"]]["Status__c"] == "Skipped"
    # the stage moving back reopens the milestone, and the Task mapsync closed with it
    world.edit("Opportunity", opp, StageName="Qualification")
    world.cycle()
    assert all(tasks(world, opp)[k]["Status"] == "Not Started" for k in by_stage)


def test_a_moved_close_date_moves_open_tasks_except_one_a_rep_moved(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification", close_in_days=120)
    world.cycle()
    before = tasks(world, opp)
    mine = open_seller_milestone(world, opp)["Key__c"]
    rep_day = (TODAY + dt.timedelta(days=3)).isoformat()
    world.edit("Task", before[mine]["Id"], ActivityDate=rep_day)
    later = TODAY + dt.timedelta(days=150)
    world.edit("Opportunity", opp, CloseDate=later.isoformat())
    world.cycle()
    milestones, after = milestone_rows(world, opp), tasks(world, opp)
    moved = [k for k in after if k != mine and not after[k]["IsClosed"]]
    assert moved
    for key in moved:
        assert after[key]["ActivityDate"] == milestones[key]["Due_Date__c"]
        assert after[key]["ActivityDate"] > before[key]["ActivityDate"]
    assert after[mine]["ActivityDate"] == rep_day  # the rep's date stays
    assert milestones[mine]["Due_Date__c"] != rep_day  # and is the rep's, not the plan's
    world.edit("Opportunity", opp, CloseDate=(later + dt.timedelta(days=30)).isoformat())
    world.cycle()
    assert tasks(world, opp)[mine]["ActivityDate"] == rep_day  # still


def test_a_cancelled_plan_closes_its_open_tasks(emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    assert any(not t["IsClosed"] for t in tasks(world, opp).values())
    world.edit("Opportunity", opp, StageName="Closed Lost")
    world.cycle()
    assert world.plan(opp)["Status__c"] == "Cancelled"  # type: ignore[index]
    assert all(t["IsClosed"] for t in tasks(world, opp).values())


def test_a_task_a_rep_deleted_is_not_recreated(emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    key, task = next(iter(tasks(world, opp).items()))
    world.delete("Task", task["Id"])
    world.edit("Opportunity", opp, CloseDate=(TODAY + dt.timedelta(days=100)).isoformat())
    world.cycle()
    assert key not in tasks(world, opp)


def test_buyer_milestones_get_tasks_only_when_the_mapping_names_their_side(
        emulator: Emulator, tmp_path: Path) -> None:
    text = default_mapping_path().read_text(encoding="utf-8").replace(
        "  sides: [seller, joint]\n  reminder_days_before: 1",
        "  sides: [buyer]\n  reminder_days_before: null")
    world = World(emulator, tmp_path, mapping=load_mapping_text(text))
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    sides = {k: m["Owner_Side__c"] for k, m in milestone_rows(world, opp).items()}
    by_key = tasks(world, opp)
    assert by_key
    assert {sides[k] for k in by_key} == {"Buyer"}
    assert all(t["IsReminderSet"] is False and t["ReminderDateTime"] is None
               for t in by_key.values())


@pytest.mark.parametrize("path", ["collections", "bulk"])
def test_tasks_are_written_by_the_cycles_push_on_either_path(
        emulator: Emulator, tmp_path: Path, path: str) -> None:
    settings = {"sf_bulk_threshold": 1} if path == "bulk" else {}
    world = World(emulator, tmp_path, settings=settings)
    opps = [world.opportunity(stage="Qualification", name=f"Initech {n}") for n in range(2)]
    report = world.cycle()
    written = sum(len(tasks(world, o)) for o in opps)
    assert written
    assert report.tasks_written == written
    assert all(m["Task_Id__c"] for o in opps for k, m in milestone_rows(world, o).items()
               if k in tasks(world, o))


def test_an_idle_poll_after_tasks_were_written_costs_one_call(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    world.opportunity(stage="Qualification")
    assert world.cycle().tasks_written
    world.minutes_later(1)
    echo = world.cycle()  # Get Updated names mapsync's own Tasks: read, and left out
    assert (echo.touched, echo.tasks_written) == (0, 0)
    world.minutes_later(1)
    assert world.cycle().api_calls == 1


def test_a_task_a_rep_completed_is_read_by_the_poll_in_its_one_call_and_one_more(
        emulator: Emulator, tmp_path: Path) -> None:
    """Nothing else changed: the Task's change alone touches its Opportunity. Get Updated
    rides in the poll's request; the changed Task is read by Id in a second call."""
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    world.minutes_later(1)
    world.cycle()  # the echo of the first cycle's writes, Tasks included
    world.minutes_later(1)
    assert world.cycle().api_calls == 1
    milestone = open_seller_milestone(world, opp)
    world.edit("Task", tasks(world, opp)[milestone["Key__c"]]["Id"], Status="Completed")
    world.minutes_later(1)
    report = world.cycle(RunControl())
    assert report.touched == 1
    assert report.pulled["Task"] == 1
    assert milestone_rows(world, opp)[milestone["Key__c"]]["Status__c"] == "Done"


def test_the_echo_of_a_large_cycles_tasks_costs_one_read_and_a_reps_edit_in_it_is_kept(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More Tasks written than one by-Id call reads back (here 5, one Id per query): the next
    poll reads the window's changes by anyone but mapsync in one call, whatever mapsync
    wrote, and still finds the Task a rep completed in the same window."""
    from sync.cycle import updated

    monkeypatch.setattr(updated, "IDS_PER_QUERY", 1)
    world = World(emulator, tmp_path)
    opps = [world.opportunity(stage="Qualification", name=f"Initech {n}") for n in range(3)]
    assert world.cycle().tasks_written > updated.QUERIES_PER_CALL * 2
    milestone = open_seller_milestone(world, opps[0])
    world.edit("Task", tasks(world, opps[0])[milestone["Key__c"]]["Id"], Status="Completed")
    world.minutes_later(1)
    report = world.cycle(RunControl())
    assert report.pulled["Task"] == 1
    assert milestone_rows(world, opps[0])[milestone["Key__c"]]["Status__c"] == "Done"
    # the poll, the window's changes in one read, then gather and push for one Opportunity;
    # the same cycle reading the 15 Tasks back by Id (one a query, five a call) cost 9
    assert report.api_calls == 7


def test_a_window_salesforce_refuses_for_too_many_ids_is_read_by_its_changes_not_failed(
        emulator: Emulator, tmp_path: Path) -> None:
    """Get Updated answers EXCEEDED_ID_LIMIT past 600,000 Ids (a first cycle of a million
    Opportunities writes three million Tasks); here past 4. The next poll reads the window's
    changes by anyone but mapsync instead, and finds the Task a rep completed in it."""
    emulator.org.set_knobs(replication_id_limit=4)
    world = World(emulator, tmp_path)
    opps = [world.opportunity(stage="Qualification", name=f"Initech {n}") for n in range(2)]
    assert world.cycle().tasks_written > 4
    milestone = open_seller_milestone(world, opps[0])
    world.edit("Task", tasks(world, opps[0])[milestone["Key__c"]]["Id"], Status="Completed")
    world.minutes_later(1)
    report = world.cycle(RunControl())
    assert report.outcome == "succeeded", report.error
    assert report.pulled["Task"] == 1
    assert milestone_rows(world, opps[0])[milestone["Key__c"]]["Status__c"] == "Done"
    world.minutes_later(1)
    assert world.cycle().outcome == "succeeded"  # the mark moved on: not refused again
