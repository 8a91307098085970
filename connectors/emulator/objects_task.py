"""The standard ``Task``: a rep's to-do, as Salesforce declares and saves it.

Reps live in their Tasks; mapsync puts seller-side milestones there and check-ins land there
too, so the local org serves ``Task`` with Salesforce's rules rather than as a bare table:
``Status`` and ``Priority`` are required restricted picklists that default to *Not Started*
and *Normal*; ``IsClosed`` follows the status (only *Completed* closes) and
``CompletedDateTime`` is stamped when a Task closes and cleared when it reopens, both
computed by the server; ``WhatId`` points at an Account or Opportunity (the "Related To"),
``WhoId`` at a Contact (the "Name"); ``ReminderDateTime`` with ``IsReminderSet`` is the
pop-up reminder. Kept in its own module so each object that teams add stays one small file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.values import format_datetime

TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else",
                 "Deferred")
CLOSED_STATUSES = frozenset({"Completed"})
TASK_PRIORITIES = ("High", "Normal", "Low")


def task() -> SObjectDef:
    from connectors.emulator.standard_objects import (  # standard_objects includes this module
        picklist,
        readonly,
        ref,
        sobject,
        text,
        typed,
    )
    return sobject("Task", "00T", "Task", "Tasks", [
        text("Subject", 255, "Subject"),
        typed("ActivityDate", "date", "Due Date Only"),
        picklist("Status", TASK_STATUSES, "Status", nillable=False, restricted_picklist=True,
                 default_value="Not Started"),
        picklist("Priority", TASK_PRIORITIES, "Priority", nillable=False,
                 restricted_picklist=True, default_value="Normal"),
        readonly(typed("IsClosed", "boolean", "Closed")),
        readonly(typed("CompletedDateTime", "datetime", "Completed Date/Time")),
        ref("OwnerId", "User", "Owner", "Assigned To ID", nillable=False, default_value="$user"),
        FieldDef(name="WhatId", type="reference", length=18, label="Related To ID",
                 reference_to=("Account", "Opportunity"), relationship_name="What",
                 relationship_plural="Tasks", cascade_delete=True),
        ref("WhoId", "Contact", "Who", "Name ID", relationship_plural="Tasks"),
        typed("ReminderDateTime", "datetime", "Reminder Date/Time"),
        typed("IsReminderSet", "boolean", "Reminder Set", default_value=False),
        typed("Description", "textarea", "Comments", length=32000),
    ])


def derive_task(row: dict[str, object], changed: dict[str, object],
                creating: bool, now: datetime | None = None) -> dict[str, object]:
    """``IsClosed`` and ``CompletedDateTime`` from the status, as Salesforce saves them."""
    if not creating and "Status" not in changed:
        return {}
    closed = str(row.get("Status")) in CLOSED_STATUSES
    out: dict[str, object] = {"IsClosed": int(closed)}
    if not closed:
        out["CompletedDateTime"] = None
    elif creating or not row.get("CompletedDateTime"):
        out["CompletedDateTime"] = format_datetime(now or datetime.now(UTC))
    return out
