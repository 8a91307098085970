"""Stage progress and the rep-pinned rule: who decides a milestone's status and dates.

Two sources move a milestone: the Opportunity stage (passing a milestone's stage completes
it; Closed Won completes everything before the close) and the rep, in Salesforce. The rep
always wins: a rep-pinnable field (``Status__c``, ``Completed_Date__c``, ``Due_Date__c``) that
Salesforce holds with a value other than the one mapsync last wrote is the rep's, and stays as
the rep left it. Everything else follows the plan:

- status: ``Done`` while the stage has passed the milestone's stage, otherwise ``Not Started``
  — so moving the stage back reopens exactly the milestones mapsync completed. A milestone a
  rep completed (``Done`` pinned), or whose completed date a rep set, is the rep's and never
  reopens;
- completed date: the day mapsync first observed the milestone done (``today`` then), kept
  from then on; cleared when the milestone reopens. A milestone that was already complete
  when mapsync first saw it — done by stage on the plan's creation (or a backfill), on a
  milestone new to the plan, or Done on a plan mapsync adopts without having written it — is
  complete *before tracking*: it keeps the completed date Salesforce has, which is empty
  unless someone entered one (mapsync cannot know the day; dating it ``today`` would make an
  early step look weeks late). Such a milestone ends, for slip, on its due date, so first
  sight is never slip; slip counts from the first cycle that saw a milestone open: one first
  seen open past its work-back date gets today as its baseline (the due date stays the
  work-back date, so it shows as due, and the projection still finishes it from today on);
- due date: the work-back date for the current close date, so a moved close date moves every
  untouched due date (the baseline stays where it was first set);
- frozen plans (the Opportunity is Closed Lost): status and dates stay as Salesforce has them.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sync.planner.model import DONE, NOT_STARTED, MilestoneState

STATUS, COMPLETED_DATE, DUE_DATE = "Status__c", "Completed_Date__c", "Due_Date__c"
BASELINE = "Baseline_Due_Date__c"

_NOTHING_PINNED: frozenset[str] = frozenset()
_resolution = tuple.__new__  # a Resolution without the frame of its generated __new__


class StageProgress(NamedTuple):
    """Where an Opportunity stands in the mapping's stage order."""

    position: int | None  # None: a stage the mapping does not know (progress is left alone)
    closed_won: bool = False
    closed_lost: bool = False

    def completes(self, milestone_stage_index: int | None, before_close: bool) -> bool | None:
        """Whether the stage completes a milestone: True, False, or None (leave it as it is)."""
        if self.closed_lost:
            return None
        if self.closed_won and before_close:
            return True
        if self.position is None:
            return None
        if milestone_stage_index is None:
            return False
        return self.position > milestone_stage_index


class Resolution(NamedTuple):
    """A milestone's status and dates once stage progress and the rep's edits are applied."""

    status: str
    completed_date: dt.date | None
    due_date: dt.date | None
    baseline_due_date: dt.date
    pinned: frozenset[str]


def resolve(
    state: MilestoneState | None,
    stage_done: bool | None,
    scheduled_due: dt.date,
    today: dt.date,
    frozen: bool = False,
) -> Resolution:
    """Decide one milestone. ``stage_done`` comes from ``StageProgress.completes``."""
    if state is None:
        if stage_done:  # complete before tracking: no completion date to make up
            return Resolution(DONE, None, scheduled_due, scheduled_due, _NOTHING_PINNED)
        # first seen open: already overdue by the work-back date, it is committed from today
        # on (the baseline), so its slip counts from this first cycle, not from before it
        return Resolution(NOT_STARTED, None, scheduled_due, max(scheduled_due, today),
                          _NOTHING_PINNED)

    pinned = state.pinned_fields()
    current = state.status or NOT_STARTED

    if STATUS in pinned or frozen or stage_done is None:
        status = current
    elif stage_done:
        status = DONE
    elif current == DONE and COMPLETED_DATE in pinned:
        status = DONE  # the rep dated the completion: it is the rep's, not the stage's
    else:
        status = NOT_STARTED

    if COMPLETED_DATE in pinned or frozen:
        completed = state.completed_date
    elif status == DONE:
        if not state.written or (current == DONE and (
                state.completed_date or done_before_tracking(state))):
            completed = state.completed_date  # the day it was seen done, or before tracking
        else:
            completed = today
    else:
        completed = None

    due = state.due_date if DUE_DATE in pinned or frozen else scheduled_due
    baseline = state.written.get(BASELINE)
    if not isinstance(baseline, dt.date):
        baseline = _baseline(state, scheduled_due)
    return _resolution(Resolution, (status, completed, due, baseline, pinned))


def done_before_tracking(state: MilestoneState) -> bool:
    """Whether a Done milestone was already done when mapsync first saw it.

    mapsync wrote it Done with no completed date (complete by stage at creation), so no cycle
    ever saw it open. (A milestone mapsync never wrote, on a plan it adopts, is before
    tracking whatever its status.)
    """
    return state.written.get(STATUS) == DONE and not state.written.get(COMPLETED_DATE)


def _baseline(state: MilestoneState, scheduled_due: dt.date) -> dt.date:
    """The first committed due date: what mapsync wrote, else what Salesforce has."""
    written = state.written.get(BASELINE)
    if isinstance(written, str):
        written = dt.date.fromisoformat(written[:10])
    if isinstance(written, dt.date):
        return written
    return state.baseline_due_date or scheduled_due
