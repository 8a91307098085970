"""A plan held at its mapping version: what the planner does until RevOps applies a change.

A changed template (a milestone added or removed, new durations) reaches an existing plan
only through ``mapsync mappings apply``. Until then the plan's recorded version
(``Mapping_Version__c``) differs from its template's and the planner holds its set of
milestones: it plans only the template milestones the plan has, at their stored sequence,
with their stored due dates as the schedule (stage progress, slip and rep pins work as
always); a milestone the template gained is not added, one it lost stays as the plan has it
(neither written nor counted: a leftover, see ``added``). A plan with no recorded version (built
before versions) takes the current one on its next write. When the change is applied
(``Planner(roll_out=True)``), an open milestone it re-dates is committed anew at its new date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sync.planner.model import FINISHED_STATUSES, MilestoneState, PlanState
from sync.planner.progress import DUE_DATE, Resolution
from sync.planner.statics import MilestoneStatic


def is_held(current: PlanState | None, version: str, roll_out: bool) -> bool:
    """Whether ``current`` keeps its milestones: it records another version and the
    planner is not rolling the mapping out (``mapsync mappings apply``)."""
    return (not roll_out and current is not None and current.mapping_version is not None
            and current.mapping_version != version)


def held_schedule(statics: Sequence[MilestoneStatic], states: Mapping[str, MilestoneState],
                  scheduled: Sequence[dt.date]) -> tuple[tuple[dt.date, ...], frozenset[str]]:
    """The schedule of a held plan (each milestone's stored due date, else its baseline,
    else the template's date) and the template keys the plan lacks, which it does not get."""
    dates: list[dt.date] = []
    for s, date in zip(statics, scheduled, strict=True):
        state = states.get(s.key)
        dates.append((state.due_date or state.baseline_due_date or date) if state else date)
    return tuple(dates), frozenset(s.key for s in statics if s.key not in states)


def rebaselined(resolution: Resolution, state: MilestoneState | None) -> Resolution:
    """An open milestone the rolled-out mapping re-dates (no rep moved its due date) is
    committed anew at its new date: a RevOps change is not the buyer's or seller's slip."""
    if (state is None or DUE_DATE in resolution.pinned or resolution.due_date is None
            or resolution.status in FINISHED_STATUSES):
        return resolution
    return resolution._replace(baseline_due_date=resolution.due_date)
