"""Task in the local org: the standard activity object, as Salesforce describes it.

mapsync keeps the next plan check-in as a Task for the Opportunity's owner. Task sits in a
module of its own so that other features adding activities extend one definition.
``IsClosed`` follows ``Status`` (only ``Completed`` is a closed status in a new org), and
``WhatId`` is polymorphic (``objects_files.link_anywhere`` points it at Accounts,
Opportunities and custom objects once those are loaded).
"""

from __future__ import annotations

from dataclasses import replace

from connectors.emulator.schema import SObjectDef
from connectors.emulator.standard_objects import picklist, readonly, ref, sobject, text, typed

TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else",
                 "Deferred")
CLOSED_STATUSES = frozenset({"Completed"})
PRIORITIES = ("High", "Normal", "Low")


def task() -> SObjectDef:
    return sobject("Task", "00T", "Task", "Tasks", [
        replace(text("Subject", 255, "Subject"), type="combobox",
                picklist_values=("Call", "Send Letter", "Send Quote", "Other")),
        typed("ActivityDate", "date", "Due Date Only"),
        picklist("Status", TASK_STATUSES, "Status", nillable=False,
                 default_value="Not Started", restricted_picklist=True),
        picklist("Priority", PRIORITIES, "Priority", nillable=False, default_value="Normal",
                 restricted_picklist=True),
        readonly(typed("IsClosed", "boolean", "Closed")),
        readonly(typed("IsHighPriority", "boolean", "High Priority")),
        ref("OwnerId", "User", "Owner", "Assigned To ID", nillable=False,
            default_value="$user", relationship_plural="Tasks"),
        ref("WhatId", "Opportunity", "What", "Related To ID", relationship_plural="Tasks",
            cascade_delete=True),
        ref("WhoId", "Contact", "Who", "Name ID", relationship_plural="Tasks",
            cascade_delete=True),
        typed("Description", "textarea", "Description", length=32000),
        typed("ReminderDateTime", "datetime", "Reminder Date/Time"),
        typed("IsReminderSet", "boolean", "Reminder Set"),
    ])


def derive_task(row: dict[str, object], changed: dict[str, object],
                creating: bool) -> dict[str, object]:
    """``IsClosed`` and ``IsHighPriority`` from status and priority."""
    out: dict[str, object] = {}
    if creating or "Status" in changed:
        out["IsClosed"] = int(row.get("Status") in CLOSED_STATUSES)
    if creating or "Priority" in changed:
        out["IsHighPriority"] = int(row.get("Priority") == "High")
    return out
