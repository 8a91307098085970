"""Tasks: each open seller-side (and joint) milestone as a Task for its owner, both ways.

Reps live in their Tasks, not in a custom object. So each open milestone of the sides the
mapping names (``tasks: sides``, seller and joint by default) gets a standard Task on the
Opportunity (``WhatId``: it shows on the Opportunity's activity timeline, where reps work,
as Salesforce Labs' Action Plans does), for the milestone's owner (its Owner User, else the
Opportunity owner), subject the milestone's name, due on its due date, with a reminder
``reminder_days_before`` days earlier at 09:00 UTC. The Task is upserted by the activity
field ``MAP_External_Id__c`` (the milestone's external id: a repeated write never
duplicates) and the milestone names its Task in ``Task_Id__c`` (Salesforce allows no lookup
to Task).

Both ways, decided here from what ``gather`` read, without I/O:

- a rep completing the Task completes the milestone: a rep's value of ``Status__c`` (Done)
  and ``Completed_Date__c`` (the day the Task was completed), pinned like a rep's own edit
  of the milestone — unless the rep set the milestone's status after completing the Task;
- a milestone completed or skipped (by stage or by a rep), one gone from the plan, and
  every milestone of a cancelled plan close the Task; a milestone reopened by stage
  reopens a Task mapsync closed;
- a moved due date moves the open Task (and its reminder), unless the rep moved it.

Task has no field history, so who changed a Task field is told by the shadow and the Task's
last modifier: on a Task someone else changed last, a field whose value differs from what
mapsync last wrote there is the rep's, and mapsync leaves it alone; the shadow marks it so,
and it stays the rep's after mapsync writes another field of the Task. On a Task mapsync
changed last, a difference is mapsync's own write whose answer was lost. A Task mapsync has
no shadow of (a lost store) that someone else changed last is the rep's as a whole. A Task
a rep deleted is not recreated. (A rep's edit that a write of mapsync's to the same Task
lands on a moment later cannot be told from mapsync's: Task keeps no history.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from connectors.salesforce.values import wire
from mappings.model import TaskSpec
from sync.cycle.changes import PlanChanges
from sync.cycle.diff import RecordChange
from sync.cycle.sobjects import (
    MILESTONE_OBJECT,
    PLAN_OBJECT,
    TASK,
    TASK_ID_FIELD,
    milestone_external_id,
)
from sync.planner.model import CANCELLED, DONE, DesiredMilestone, DesiredPlan

OPEN, COMPLETED = "Not Started", "Completed"  # what mapsync writes; only Completed closes
REMINDER_TIME = dt.time(9, 0, tzinfo=dt.UTC)
TRACKED = ("Subject", "ActivityDate", "OwnerId", "ReminderDateTime", "IsReminderSet", "Status")
REP_MARK = "rep"  # in a Task's shadow: the fields known to be the rep's, whoever wrote last
REMINDER = ("ReminderDateTime", "IsReminderSet")  # one setting: a rep's change of either
Rows = Mapping[str, Mapping[str, Any]]  # milestone external id -> Task row


def same(a: Any, b: Any) -> bool:
    """Equal in Salesforce's wire form; datetimes by the moment they name."""
    wa, wb = wire(a), wire(b)
    if isinstance(wa, str) and isinstance(wb, str) and "T" in wa and "T" in wb:
        try:
            return _moment(wa) == _moment(wb)
        except ValueError:
            pass
    return bool(wa == wb)


def _moment(text: str) -> dt.datetime:
    return dt.datetime.strptime(text.replace("Z", "+0000")[:19] + text[-5:],
                                "%Y-%m-%dT%H:%M:%S%z")


def rep_fields(row: Mapping[str, Any], shadow: Mapping[str, Any] | None,
               me: str | None) -> frozenset[str]:
    """The Task's fields a rep changed: those known to be a rep's (the shadow keeps the
    mark), and, on a Task someone else changed last, those no longer holding what mapsync
    wrote. A difference on a Task mapsync changed last is its own write whose answer was
    lost (the shadow missed it), not a rep's. Without a shadow (a lost store), every field
    of a Task someone else changed last is the rep's."""
    by = row.get("LastModifiedById")
    mine = by is None or by == me
    if shadow is None:
        return frozenset() if mine else frozenset(TRACKED)
    known = frozenset(shadow.get(REP_MARK) or ())
    if mine:
        return known
    return known | {f for f in TRACKED if f in shadow and not same(row.get(f), shadow[f])}


def completed_by_rep(row: Mapping[str, Any], shadow: Mapping[str, Any] | None,
                     me: str | None) -> bool:
    return bool(row.get("IsClosed")) and "Status" in rep_fields(row, shadow, me)


def task_completions(opp_id: str, milestones: Mapping[str, Mapping[str, Any]], tasks: Rows,
                     shadows: Mapping[tuple[str, str], Mapping[str, Any]],
                     set_at: Mapping[str, Mapping[str, str]], me: str | None
                     ) -> dict[str, dict[str, Any]]:
    """Per milestone Id, the rep's values a completed Task gives its milestone: Done, on the
    day the Task was completed. ``set_at``: per milestone Id and field, when a rep last set
    it (field history); a later word of the rep's on the milestone's status wins."""
    out: dict[str, dict[str, Any]] = {}
    for key, record in milestones.items():
        ext = milestone_external_id(opp_id, key)
        row = tasks.get(ext)
        if row is None or not completed_by_rep(row, shadows.get((TASK, ext)), me):
            continue
        done_at = str(row.get("CompletedDateTime") or "")
        later = set_at.get(str(record.get("Id")), {}).get("Status__c")
        if later and done_at and _moment(later) >= _moment(done_at):
            continue
        day = done_at[:10] or str(row.get("ActivityDate") or "")[:10] or None
        out[str(record.get("Id"))] = {"Status__c": DONE, "Completed_Date__c": day}
    return out


def reminder_at(due: dt.date | None, spec: TaskSpec) -> str | None:
    """The reminder's moment: ``reminder_days_before`` days before ``due``, at 09:00 UTC."""
    if due is None or spec.reminder_days_before is None:
        return None
    day = due - dt.timedelta(days=spec.reminder_days_before)
    return wire(dt.datetime.combine(day, REMINDER_TIME))  # type: ignore[no-any-return]


def description(m: DesiredMilestone) -> str:
    """What the Task says of its milestone (push adds the link to its record)."""
    why = f"{m.why}\n\n" if m.why else ""
    return f"{why}Mutual Action Plan milestone: {m.name} ({m.side.lower()} side)."


def add_task_changes(changes: PlanChanges, desired: DesiredPlan, opportunity: Mapping[str, Any],
                     milestones: Mapping[str, Mapping[str, Any]], tasks: Rows,
                     deleted: frozenset[str], shadows: Mapping[tuple[str, str], Mapping[str, Any]],
                     spec: TaskSpec, me: str | None,
                     deleted_milestones: frozenset[str] = frozenset()) -> None:
    """Add to ``changes`` the Task writes ``desired`` needs, their shadows, and the
    milestones' ``Task_Id__c`` where it does not name the milestone's Task yet.
    ``deleted``: external ids of milestones whose Task a rep deleted (not recreated);
    ``deleted_milestones``: keys of milestones a rep deleted (their Tasks close)."""
    opp_id = desired.opportunity_id
    cancelled = desired.status == CANCELLED
    wanted: set[str] = set()
    for m in desired.milestones:
        if m.key in deleted_milestones:
            continue
        ext = milestone_external_id(opp_id, m.key)
        wanted.add(ext)
        record = milestones.get(m.key) or {}
        if record.get("Id"):
            changes.milestone_ids[ext] = str(record["Id"])
        row, shadow = tasks.get(ext), shadows.get((TASK, ext))
        is_open = m.is_open and not cancelled
        if row is None:
            if spec.covers(m.side) and is_open and ext not in deleted and shadow is None:
                _create(changes, ext, m, opportunity, record, spec)
            continue
        # the milestone names its Task: in its update, or in its creation when a Task written
        # before (a repeated batch) finds the milestone not there yet
        if record.get(TASK_ID_FIELD) != row.get("Id") and (
                record.get("Id") or any(c.key == ext and c.created for c in changes.milestones)):
            _link(changes, ext, str(row["Id"]))
        values = _values(m, opportunity, record, spec) if spec.covers(m.side) else {}
        _update(changes, ext, row, shadow, values, is_open, me)
    for ext, row in tasks.items():  # a milestone gone from the plan: its Task closes
        if ext not in wanted:
            _update(changes, ext, row, shadows.get((TASK, ext)), {}, False, me)


def _values(m: DesiredMilestone, opportunity: Mapping[str, Any], record: Mapping[str, Any],
            spec: TaskSpec) -> dict[str, Any]:
    reminder = reminder_at(m.due_date, spec)
    owner = record.get("Owner_User__c") or m.owner_user_id or opportunity.get("OwnerId")
    values = {"Subject": m.name[:255], "ActivityDate": wire(m.due_date), "OwnerId": owner,
              "ReminderDateTime": reminder, "IsReminderSet": reminder is not None}
    if not owner:  # a Task always has an owner: Salesforce's default, the writing user
        del values["OwnerId"]
    return values


def _create(changes: PlanChanges, ext: str, m: DesiredMilestone,
            opportunity: Mapping[str, Any], record: Mapping[str, Any], spec: TaskSpec) -> None:
    values = {**_values(m, opportunity, record, spec), "Status": OPEN}
    fields = {"WhatId": changes.opportunity_id, **values, "Priority": "Normal",
              "Description": description(m)}
    contact = record.get("Owner_Contact__c") or m.owner_contact_id
    if contact and m.side != "Seller":  # the buyer's person on a joint step: the Task's Name
        fields["WhoId"] = contact
    changes.tasks.append(RecordChange(TASK, ext, {k: v for k, v in fields.items()
                                                  if v is not None}, True))
    changes.shadows[(TASK, ext)] = {k: wire(v) for k, v in values.items()}


def _update(changes: PlanChanges, ext: str, row: Mapping[str, Any],
            shadow: Mapping[str, Any] | None, values: Mapping[str, Any], is_open: bool,
            me: str | None) -> None:
    """The fields of an existing Task mapsync writes: its status, as the milestone's, and
    while it is open the values the milestone gives it, each unless a rep changed it."""
    rep = rep_fields(row, shadow, me)
    if rep & {"ActivityDate", *REMINDER}:  # a Task the rep moved keeps its reminder too
        rep |= set(REMINDER)
    closed = bool(row.get("IsClosed"))
    fields: dict[str, Any] = {}
    if is_open and closed and "Status" not in rep:
        fields["Status"] = OPEN  # mapsync closed it; the milestone is open again
    elif not is_open and not closed and not (shadow and shadow.get("Status") == COMPLETED):
        fields["Status"] = COMPLETED  # (a Task mapsync closed and a rep reopened stays open)
    if is_open and (not closed or fields):
        fields.update((f, v) for f, v in values.items()
                      if f not in rep and not same(v, row.get(f)))
    if shadow is None:
        base = dict.fromkeys(TRACKED) if rep else {f: wire(row.get(f)) for f in TRACKED}
    else:  # a difference that is not the rep's is mapsync's own write: taken as written
        base = {**shadow, **{f: wire(row.get(f)) for f in TRACKED
                             if f in shadow and f not in rep}}
    base.update((k, wire(v)) for k, v in fields.items())
    base.pop(REP_MARK, None)
    if rep:
        base[REP_MARK] = sorted(rep)
    changes.shadows[(TASK, ext)] = base
    if fields:
        changes.tasks.append(RecordChange(TASK, ext, fields, False))


def _link(changes: PlanChanges, ext: str, task_id: str) -> None:
    """The milestone names its Task (added to the milestone's own write when it has one)."""
    for c in changes.milestones:
        if c.key == ext:
            c.fields[TASK_ID_FIELD] = task_id
            return
    changes.milestones.append(RecordChange(MILESTONE_OBJECT, ext, {TASK_ID_FIELD: task_id},
                                           False))


def task_link(task_key: str, task_id: str) -> RecordChange:
    """The write that names a new Task on its milestone (the Task's key is the milestone's)."""
    return RecordChange(MILESTONE_OBJECT, task_key, {TASK_ID_FIELD: task_id}, False)


def record_link(milestone_id: str | None, plan_id: str) -> str:
    """The Task description's line linking its milestone's record, or its plan's while the
    milestone is being created (its Id is not known before the Task is written)."""
    if milestone_id:
        return f"\nMilestone record: /lightning/r/{MILESTONE_OBJECT}/{milestone_id}/view"
    return f"\nMutual Action Plan: /lightning/r/{PLAN_OBJECT}/{plan_id}/view"
