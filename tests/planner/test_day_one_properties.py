"""Properties of day one over generated mappings and Opportunities: a new plan is late only
when its work cannot fit, a won deal is never late, deleted milestones never count."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from mappings.model import StageMapping
from sync.planner.model import (
    FINISHED_STATUSES,
    OFF_TRACK,
    ON_TRACK,
    Opportunity,
)
from sync.planner.written import state_after_writing
from tests.planner.test_properties import FAST, TODAYS, mappings, opportunities, planned


@FAST
@given(mappings(), opportunities(), TODAYS)
def test_a_plan_created_today_is_off_track_only_when_late_or_its_work_cannot_fit(
    mapping: StageMapping, opp: Opportunity, today: dt.date
) -> None:
    result = planned(mapping, opp, today)
    specs = {m.key: m for m in mapping.templates[0].milestones}
    behind = [m for m in result.milestones
              if specs[m.key].anchor == "before_close" and m.is_open
              and m.due_date is not None and m.due_date < today]
    assert all(m.days_slipped == 0 for m in result.milestones)  # first sight is not slip
    assert all(m.completed_date is None for m in result.milestones)  # nothing made up
    if opp.stage == "Closed Won" or (opp.close_date is not None and opp.close_date >= today
                                     and not behind):
        assert result.health == ON_TRACK
        assert result.days_slipped == 0
    if result.health == OFF_TRACK:
        assert opp.close_date is not None
        assert opp.close_date < today or behind


@FAST
@given(mappings(), opportunities(), TODAYS, st.data())
def test_a_closed_won_plan_is_never_off_track(
    mapping: StageMapping, opp: Opportunity, today: dt.date, data: st.DataObject
) -> None:
    state = state_after_writing(planned(mapping, opp, today))
    milestones = dict(state.milestones)
    for key in data.draw(st.lists(st.sampled_from(sorted(milestones)), unique=True)):
        milestones[key] = dataclasses.replace(
            milestones[key],
            status=data.draw(st.sampled_from(("Not Started", "Done", "Blocked"))),
            due_date=data.draw(st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31))),
        )
    won = dataclasses.replace(opp, stage="Closed Won")
    later = today + dt.timedelta(days=data.draw(st.integers(0, 400)))
    result = planned(mapping, won, later, dataclasses.replace(state, milestones=milestones))
    assert result.health == ON_TRACK
    assert result.projected_close_date == won.close_date
    assert result.days_slipped == 0


@FAST
@given(mappings(), opportunities(), TODAYS, st.data())
def test_deleted_milestones_are_never_next_nor_counted(
    mapping: StageMapping, opp: Opportunity, today: dt.date, data: st.DataObject
) -> None:
    state = state_after_writing(planned(mapping, opp, today))
    gone = frozenset(data.draw(st.lists(st.sampled_from(sorted(state.milestones)),
                                        unique=True)))
    state = dataclasses.replace(
        state, deleted=gone,
        milestones={k: v for k, v in state.milestones.items() if k not in gone})
    later = today + dt.timedelta(days=data.draw(st.integers(0, 120)))
    result = planned(mapping, opp, later, state)
    kept = result.milestones
    assert not gone & {m.key for m in kept}
    names_gone = {m.name for m in mapping.templates[0].milestones if m.key in gone}
    names_kept = {m.name for m in kept}
    assert result.next_milestone is None or result.next_milestone not in names_gone - names_kept
    finished = sum(1 for m in kept if m.status in FINISHED_STATUSES)
    expected = round(100.0 * finished / len(kept), 2) if kept else 0.0
    assert result.percent_complete == expected
    if kept and finished == len(kept) and opp.stage != "Closed Lost":
        assert result.status == "Completed"
