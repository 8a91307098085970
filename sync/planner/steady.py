"""Resolving a plan's milestones when they are as mapsync wrote them: the steady state.

Every cycle plans each changed Opportunity again from the plan it wrote, and almost every
milestone of it is exactly as written: no rep pinned anything, so ``progress.resolve``'s
answer follows from the stage and the schedule alone. Recognising that costs two C-level
reads (the seven rep-pinnable and rep-chosen values as Salesforce holds them, and as mapsync
wrote them) and one tuple comparison, where ``MilestoneState.pinned_fields`` and
``resolve`` walk them one by one in Python; a plan has ten or more milestones and a cycle
plans them by the hundred thousand. Anything else — a pin, a field never written, a rep
edit — goes to ``resolve``, which stays the definition: this module answers exactly as it
does (``tests/planner/test_steady.py`` compares the two on random states).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import attrgetter, itemgetter

from sync.planner.model import DONE, NOT_STARTED, MilestoneState
from sync.planner.progress import BASELINE, COMPLETED_DATE, STATUS, Resolution, resolve

# The values ``pinned_fields`` compares, in the same order on both sides.
AS_HELD = attrgetter("status", "due_date", "completed_date", "name", "why",
                      "owner_contact_id", "owner_user_id")
AS_WRITTEN = itemgetter("Status__c", "Due_Date__c", "Completed_Date__c", "Name",
                         "Why_It_Matters__c", "Owner_Contact__c", "Owner_User__c")
_resolution = tuple.__new__  # a Resolution without the frame of its generated __new__


def resolve_all(
    found: Sequence[MilestoneState | None],
    stage_done: Sequence[bool | None],
    scheduled: Sequence[dt.date],
    today: dt.date,
    frozen: bool,
) -> list[Resolution]:
    """``resolve`` for each milestone (template order), the unpinned ones without its walk."""
    out: list[Resolution] = []
    append = out.append
    for state, done, scheduled_due in zip(found, stage_done, scheduled, strict=True):
        if state is None or state.rep_pins:
            append(resolve(state, done, scheduled_due, today, frozen))
            continue
        written = state.written
        try:
            unpinned = AS_WRITTEN(written) == AS_HELD(state)
        except KeyError:  # a field mapsync never wrote: the general rule decides
            unpinned = False
        if not unpinned:
            append(resolve(state, done, scheduled_due, today, frozen))
            continue
        current = state.status or NOT_STARTED
        status = current if frozen or done is None else DONE if done else NOT_STARTED
        completed = state.completed_date
        if not frozen and status == DONE:
            if current != DONE or not (completed or (
                    written[STATUS] == DONE and not written[COMPLETED_DATE])):
                completed = today  # first seen done by this cycle
        elif not frozen:
            completed = None
        baseline = written.get(BASELINE)
        if not isinstance(baseline, dt.date):
            append(resolve(state, done, scheduled_due, today, frozen))
            continue
        due = state.due_date if frozen else scheduled_due
        append(_resolution(Resolution, (status, completed, due, baseline, state.rep_pins)))
    return out
