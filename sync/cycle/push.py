"""Push: write the decided records to Salesforce and account for every one of them.

Records go out by external id (a retried or repeated write never duplicates; Opportunity
rollups, which have no external id, are updates by Id), plans before milestones (a new
milestone needs its plan's Id), the milestones' Tasks (one Opportunity's in one request),
then milestones of one plan in one request (no row-lock fights; each new Task's Id goes out
in its milestone's write) side by side with the Opportunity rollups (both wait only on the
plans and Tasks: as Bulk jobs they are processed at the same time), then deletions.
Collections carry up to ``SF_BULK_THRESHOLD`` records, Bulk API 2.0 more. Each record's result
is filed as soon as it is known, so a push stopped between two steps (a stop request, the API
limit) still commits what landed: written records update the shadow, refused ones become
dead letters with Salesforce's error, and a failure of one record never stops the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from connectors.salesforce.results import RecordResult
from connectors.salesforce.write import Write
from sync.cycle.decide import Decisions
from sync.cycle.diff import RecordChange
from sync.cycle.run import RunControl
from sync.cycle.sobjects import (
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_OBJECT,
    TASK,
    TASK_ID_FIELD,
    UPSERT_KEY,
)
from sync.cycle.tasks import record_link, task_link


class Writer(Protocol):
    """What push needs of the Salesforce connector."""

    def write_auto(self, writes: Sequence[Write]) -> list[list[RecordResult]]: ...

    def delete(self, ids: Sequence[str]) -> list[RecordResult]: ...


@dataclass(frozen=True)
class Failure:
    """A record Salesforce refused, for the dead-letter table."""

    change: RecordChange
    result: RecordResult

    @property
    def code(self) -> str:
        return self.result.errors[0].code if self.result.errors else "UNKNOWN_ERROR"

    @property
    def message(self) -> str:
        return self.result.message or "no error reported"


@dataclass
class PushResult:
    """What landed and what did not, per record."""

    written: list[tuple[RecordChange, RecordResult]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    deleted: list[RecordResult] = field(default_factory=list)

    def ids(self, sobject: str) -> dict[str, str]:
        """Salesforce Ids of the written records of ``sobject``, by key."""
        return {c.key: r.id for c, r in self.written if c.sobject == sobject and r.id}


def write(writer: Writer, decisions: Decisions, control: RunControl,
          into: PushResult) -> None:
    """Write ``decisions`` step by step, checking ``control`` before each write."""
    changes = decisions.changes
    control.check_write()
    upsert(writer, PLAN_OBJECT, [c.plan for c in changes if c.plan], into)
    plan_ids = into.ids(PLAN_OBJECT)
    failed_plans = {f.change.key for f in into.failed if f.change.sobject == PLAN_OBJECT}
    tasks = tasks_to_write(decisions, failed_plans, plan_ids)
    new_tasks: dict[str, str] = {}
    if tasks:
        control.check_write()
        before = len(into.written)
        upsert(writer, TASK, tasks, into)
        new_tasks = new_task_ids(decisions, {c.key: r for c, r in into.written[before:]})
    milestones = milestones_to_write(decisions, failed_plans, plan_ids, new_tasks)
    control.check_write()
    upsert_together(writer, [(MILESTONE_OBJECT, milestones),
                             (OPPORTUNITY, rollups_to_write(decisions, failed_plans))], into)
    gone = [*decisions.delete_plans.values(), *decisions.delete_milestones.values()]
    if gone:
        control.check_write()
        into.deleted = writer.delete(gone)


def new_task_ids(decisions: Decisions, results: Mapping[str, RecordResult]) -> dict[str, str]:
    """The Ids of the Tasks just created, by milestone key: each goes out in its milestone's
    write. Created as Salesforce answered (an upsert that found its Task deleted makes a new
    one) or as mapsync decided: a write whose answer was lost and that was sent again (a
    run resumed, a retry) finds its Task already there, ``created`` false, and the Task
    must be linked all the same."""
    out: dict[str, str] = {}
    for c in decisions.changes:
        for task in c.tasks:
            result = results.get(task.key)
            if result is not None and result.success and result.id and (
                    task.created or result.created):
                out[task.key] = result.id
    return out


def tasks_to_write(decisions: Decisions, failed_plans: set[str],
                   plan_ids: dict[str, str]) -> list[RecordChange]:
    """The milestones' Tasks, written before the milestones: each new Task's Id then goes
    out in its milestone's write, at no call of its own. A new Task's description links its
    milestone's record when the milestone exists, else its plan's (``plan_ids``: the Ids of
    plans just written, by Opportunity)."""
    tasks = []
    for c in decisions.changes:
        plan_id = plan_ids.get(c.opportunity_id) or c.plan_id
        if c.opportunity_id in failed_plans or plan_id is None:
            continue
        for task in c.tasks:
            if task.created:
                link = record_link(c.milestone_ids.get(task.key), plan_id)
                text = str(task.fields.get("Description") or "")
                if not text.endswith(link):  # prepared once, whatever the callers
                    task.fields["Description"] = text + link
            tasks.append(task)
    return tasks


def milestones_to_write(decisions: Decisions, failed_plans: set[str],
                        plan_ids: dict[str, str],
                        new_tasks: dict[str, str]) -> list[RecordChange]:
    """The milestones to write, each new one under its plan's Id and each new Task named in
    its milestone's write (or in a link of its own: ``new_tasks`` by milestone key)."""
    unlinked = dict(new_tasks)
    milestones = []
    for c in decisions.changes:
        if c.opportunity_id in failed_plans:
            continue
        for m in c.milestones:
            if m.created:
                parent = plan_ids.get(c.opportunity_id) or c.plan_id
                if parent is None:
                    continue
                m.fields["Plan__c"] = parent
            if m.key in unlinked:  # a new Task is named in its milestone's own write
                m.fields[TASK_ID_FIELD] = unlinked.pop(m.key)
            milestones.append(m)
    return milestones + [task_link(key, task_id) for key, task_id in unlinked.items()]


def rollups_to_write(decisions: Decisions, failed_plans: set[str]) -> list[RecordChange]:
    """The Opportunity rollups of the plans that did not fail."""
    return [c.rollup for c in decisions.changes
            if c.rollup and c.opportunity_id not in failed_plans]


def upsert(writer: Writer, sobject: str, changes: Sequence[RecordChange],
           into: PushResult) -> None:
    """Upsert ``changes`` (all of one object) and file each record's result."""
    upsert_together(writer, [(sobject, changes)], into)


def upsert_together(writer: Writer, steps: Sequence[tuple[str, Sequence[RecordChange]]],
                    into: PushResult) -> None:
    """Upsert the changes of several objects that do not wait on each other, in one go, and
    file each record's result."""
    steps = [(sobject, changes) for sobject, changes in steps if changes]
    if not steps:
        return
    writes = []
    for sobject, changes in steps:
        key_field = UPSERT_KEY[sobject]  # "Id": an update (Collections upsert refuses Id)
        records = []
        for change in changes:
            body = change.payload()
            body[key_field] = change.key
            records.append(body)
        group = {MILESTONE_OBJECT: "Plan__c", TASK: "WhatId"}.get(sobject)
        writes.append(Write(sobject, key_field, records, group))
    for (_, changes), results in zip(steps, writer.write_auto(writes), strict=True):
        for change, result in zip(changes, results, strict=True):
            # An upsert by external id recreates a missing record, so ENTITY_IS_DELETED here
            # names a deleted record the payload points at (a lookup), not this one.
            if result.success:
                into.written.append((change, result))
            else:
                into.failed.append(Failure(change, result))
