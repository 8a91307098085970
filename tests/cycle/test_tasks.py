"""The Task rules on their own (``sync/cycle/tasks.py``): who changed a Task, and what mapsync
writes to it, from a Task row, the shadow and the milestone, without a server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mappings.model import Side, TaskSpec
from sync.cycle.changes import PlanChanges, RecordChange
from sync.cycle.tasks import (
    add_task_changes,
    completed_by_rep,
    reminder_at,
    rep_fields,
    task_completions,
)
from sync.planner.model import DesiredMilestone, DesiredPlan
from tests.cycle.fakes import ME, REP

OPP = "006000000000001AAA"
EXT = f"{OPP}:economic_buyer"
DUE = dt.date(2030, 3, 15)
SPEC = TaskSpec()


def milestone(**kw: Any) -> DesiredMilestone:
    fields: dict[str, Any] = {
        "key": "economic_buyer", "name": "Economic buyer engaged", "sequence": 2, "stage": None,
        "side": "Seller", "role": "Account Executive", "why": "Budget owner agrees.",
        "depends_on": (),
        "baseline_due_date": DUE, "due_date": DUE, "completed_date": None, "status": "Not Started",
        "days_slipped": 0, "projected_date": DUE, "owner_contact_id": None, "owner_user_id": REP}
    fields.update(kw)
    return DesiredMilestone(**fields)


def plan(*milestones: DesiredMilestone, status: str = "Active") -> DesiredPlan:
    return DesiredPlan(OPP, "mid_market", status, "On Track", 0.0, DUE, DUE, None, 0, None,
                       None, None, None, None, tuple(milestones))


def task(**kw: Any) -> dict[str, Any]:
    row = {"Id": "00T000000000001AAA", "WhatId": OPP, "Subject": "Economic buyer engaged",
           "ActivityDate": DUE.isoformat(), "OwnerId": REP, "Status": "Not Started",
           "IsClosed": False, "ReminderDateTime": reminder_at(DUE, SPEC),
           "IsReminderSet": True, "LastModifiedById": ME, "CompletedDateTime": None}
    row.update(kw)
    return row


def shadow_of(row: dict[str, Any]) -> dict[str, Any]:
    return {f: row[f] for f in ("Subject", "ActivityDate", "OwnerId", "ReminderDateTime",
                                "IsReminderSet", "Status")}


def decide(desired: DesiredPlan, row: dict[str, Any] | None,
           shadow: dict[str, Any] | None, spec: TaskSpec = SPEC) -> PlanChanges:
    changes = PlanChanges(OPP)
    records = {"economic_buyer": {"Id": "a02000000000001AAA", "Task_Id__c": (row or {})
                                  .get("Id"), "Owner_User__c": REP}}
    shadows = {("Task", EXT): shadow} if shadow is not None else {}
    add_task_changes(changes, desired, {"OwnerId": REP}, records, {EXT: row} if row else {},
                     frozenset(), shadows, spec, ME)
    return changes


def test_a_field_no_longer_holding_what_mapsync_wrote_is_the_reps() -> None:
    row = task(ActivityDate="2030-03-20", LastModifiedById=REP)
    assert rep_fields(row, shadow_of(task()), ME) == {"ActivityDate"}
    assert rep_fields(task(), shadow_of(task()), ME) == frozenset()


def test_without_a_shadow_a_task_someone_else_changed_last_is_the_reps_as_a_whole() -> None:
    assert rep_fields(task(LastModifiedById=REP), None, ME) >= {"Status", "ActivityDate"}
    assert rep_fields(task(), None, ME) == frozenset()  # mapsync wrote it last


def test_a_task_mapsync_closed_is_no_reps_completion() -> None:
    closed = task(Status="Completed", IsClosed=True)
    assert not completed_by_rep(closed, shadow_of(closed), ME)
    assert completed_by_rep({**closed, "LastModifiedById": REP}, shadow_of(task()), ME)


def test_a_write_of_mapsyncs_whose_answer_was_lost_is_taken_as_written_not_as_a_reps() -> None:
    closed = task(Status="Completed", IsClosed=True)  # mapsync closed it; the shadow missed it
    assert not completed_by_rep(closed, shadow_of(task()), ME)
    changes = decide(plan(milestone(status="Done", completed_date=DUE)), closed,
                     shadow_of(task()))
    assert changes.tasks == []
    assert changes.shadows[("Task", EXT)]["Status"] == "Completed"


def test_a_field_the_rep_changed_stays_the_reps_after_mapsync_writes_the_task() -> None:
    moved = task(ActivityDate="2030-03-10", LastModifiedById=REP)
    renamed = milestone(name="Budget owner engaged", due_date=DUE + dt.timedelta(days=7))
    changes = decide(plan(renamed), moved, shadow_of(task()))
    assert [c.fields for c in changes.tasks] == [{"Subject": "Budget owner engaged"}]
    shadow = changes.shadows[("Task", EXT)]
    after = {**moved, "Subject": "Budget owner engaged", "LastModifiedById": ME}
    assert rep_fields(after, shadow, ME) >= {"ActivityDate"}


def test_a_reps_later_status_on_the_milestone_outweighs_the_completed_task() -> None:
    done = task(Status="Completed", IsClosed=True, LastModifiedById=REP,
                CompletedDateTime="2030-03-01T10:00:00.000+0000")
    records = {"economic_buyer": {"Id": "a02000000000001AAA"}}
    shadows = {("Task", EXT): shadow_of(task())}
    got = task_completions(OPP, records, {EXT: done}, shadows, {}, ME)
    assert got == {"a02000000000001AAA": {"Status__c": "Done", "Completed_Date__c": "2030-03-01"}}
    later = {"a02000000000001AAA": {"Status__c": "2030-03-02T08:00:00.000+0000"}}
    assert task_completions(OPP, records, {EXT: done}, shadows, later, ME) == {}


def test_a_new_due_date_moves_the_open_task_and_its_reminder() -> None:
    moved = DUE + dt.timedelta(days=7)
    changes = decide(plan(milestone(due_date=moved)), task(), shadow_of(task()))
    [change] = changes.tasks
    assert change.fields == {"ActivityDate": moved.isoformat(),
                             "ReminderDateTime": "2030-03-21T09:00:00.000+0000"}


def test_a_due_date_the_rep_moved_is_left_and_stays_the_reps() -> None:
    row = task(ActivityDate="2030-03-10", LastModifiedById=REP)
    changes = decide(plan(milestone(due_date=DUE + dt.timedelta(days=7))), row,
                     shadow_of(task()))
    assert changes.tasks == []  # nor its reminder: the rep's Task keeps its own
    assert changes.shadows[("Task", EXT)]["ActivityDate"] == DUE.isoformat()  # mapsync's


def test_a_task_mapsync_closed_that_a_rep_reopened_stays_open() -> None:
    closed_shadow = {**shadow_of(task()), "Status": "Completed"}
    reopened = task(LastModifiedById=REP)
    changes = decide(plan(milestone(status="Done", completed_date=DUE)), reopened,
                     closed_shadow)
    assert changes.tasks == []


def test_a_cancelled_plan_closes_the_open_task() -> None:
    changes = decide(plan(milestone(), status="Cancelled"), task(), shadow_of(task()))
    assert [c.fields for c in changes.tasks] == [{"Status": "Completed"}]


def test_a_side_the_mapping_does_not_name_gets_no_task() -> None:
    assert decide(plan(milestone(side="Buyer")), None, None).tasks == []
    buyers = TaskSpec(sides=[Side.BUYER], reminder_days_before=None)
    [created] = decide(plan(milestone(side="Buyer")), None, None, buyers).tasks
    assert created.created
    assert "ReminderDateTime" not in created.fields
    assert created.fields["IsReminderSet"] is False


def test_a_task_a_rep_deleted_is_not_recreated() -> None:
    changes = decide(plan(milestone()), None, shadow_of(task()))
    assert changes.tasks == []


def test_a_task_written_before_its_milestone_is_named_in_the_milestones_creation() -> None:
    # a batch repeated after a stop between its Task and milestone writes: the Task is there,
    # the milestone is not yet; its creation must carry the link, or the plan stays unlinked
    row = task()
    changes = PlanChanges(OPP)
    changes.milestones.append(RecordChange("MAP_Milestone__c", EXT, {"Name": "x"}, True))
    add_task_changes(changes, plan(milestone()), {"OwnerId": REP}, {}, {EXT: row},
                     frozenset(), {("Task", EXT): shadow_of(row)}, SPEC, ME)
    assert changes.milestones[0].fields["Task_Id__c"] == row["Id"]
    assert len(changes.milestones) == 1


def test_no_link_is_written_for_a_milestone_that_is_neither_there_nor_created() -> None:
    row = task()
    changes = PlanChanges(OPP)
    add_task_changes(changes, plan(milestone()), {"OwnerId": REP}, {}, {EXT: row},
                     frozenset(), {("Task", EXT): shadow_of(row)}, SPEC, ME)
    assert changes.milestones == []
