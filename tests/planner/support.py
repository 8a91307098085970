"""Small builders shared by the planner tests: an Opportunity, a plan run, a rep's edit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from mappings.model import StageMapping
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import DesiredPlan, Opportunity, PlanState
from sync.planner.planner import plan
from sync.planner.written import state_after_writing
from tests.planner.sample_mapping import small_mapping

MAPPING = small_mapping()
CALENDAR = BusinessCalendar.from_spec(MAPPING.calendar)
CLOSE = dt.date(2026, 3, 31)  # a Tuesday
TODAY = dt.date(2026, 1, 5)  # a Monday, well before any due date
OPP_ID = "006000000000001AAA"


def opportunity(
    stage: str = "Needs Analysis", close: dt.date | None = CLOSE, **kw: Any
) -> Opportunity:
    return Opportunity(id=OPP_ID, name="Acme rollout", stage=stage, close_date=close, **kw)


def run(
    opp: Opportunity,
    state: PlanState | None = None,
    today: dt.date = TODAY,
    mapping: StageMapping = MAPPING,
) -> DesiredPlan:
    """Plan, insisting that a plan comes out."""
    result = plan(opp, state, mapping, BusinessCalendar.from_spec(mapping.calendar), today)
    assert result is not None
    return result


def written(opp: Opportunity, today: dt.date = TODAY, state: PlanState | None = None) -> PlanState:
    """The plan as Salesforce holds it after mapsync planned and wrote it."""
    desired = run(opp, state, today)
    return state_after_writing(desired, state)


def rep_edits(state: PlanState, key: str, **changes: Any) -> PlanState:
    """A rep changes milestone ``key`` in Salesforce; mapsync's shadow is untouched."""
    milestones = dict(state.milestones)
    milestones[key] = dataclasses.replace(milestones[key], **changes)
    return dataclasses.replace(state, milestones=milestones)


def statuses(desired: DesiredPlan) -> dict[str, str]:
    return {m.key: m.status for m in desired.milestones}


def due_dates(desired: DesiredPlan) -> dict[str, dt.date | None]:
    return {m.key: m.due_date for m in desired.milestones}
