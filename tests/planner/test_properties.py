"""Properties of the planner over generated mappings, calendars and Opportunities.

Random dependency graphs (drawn in one order, listed in another), durations, anchors,
weekend rules and holiday lists; the rules below must hold for every one of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mappings.model import StageMapping
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import DONE, SKIPPED, DesiredPlan, Opportunity
from sync.planner.planner import plan
from sync.planner.written import state_after_writing
from tests.planner.sample_mapping import STAGES

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIDES = ("Buyer", "Seller", "Joint")


@st.composite
def mappings(draw: st.DrawFn) -> StageMapping:
    n = draw(st.integers(1, 9))
    after = [draw(st.booleans()) and i > 0 for i in range(n)]
    steps = []
    for i in range(n):
        candidates = [j for j in range(i) if after[i] or not after[j]]
        deps = (
            draw(st.lists(st.sampled_from(candidates), unique=True, max_size=3))
            if candidates else []
        )
        steps.append({
            "key": f"m{i}", "name": f"Milestone {i}", "side": draw(st.sampled_from(SIDES)),
            "role": draw(st.sampled_from(("Legal", "Champion", "Security"))),
            "stage": draw(st.none() | st.sampled_from(STAGES[1:8])),
            "duration": draw(st.integers(0, 15)), "depends_on": [f"m{j}" for j in deps],
            "anchor": "after_close" if after[i] else "before_close",
        })
    listed = draw(st.permutations(steps))
    holidays = draw(st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), max_size=40))
    return StageMapping.model_validate({
        "version": 1, "stages": STAGES, "create_at": "Qualification",
        "closed_won": "Closed Won", "closed_lost": "Closed Lost",
        "templates": [{"name": "t", "milestones": listed}], "default_template": "t",
        "calendar": {
            "skip_weekends": draw(st.booleans()),
            "holidays_country": draw(st.none() | st.just("US")),
            "holidays": holidays,
        },
    })


def opportunities() -> st.SearchStrategy[Opportunity]:
    return st.builds(
        Opportunity,
        id=st.just("006000000000001AAA"),
        name=st.just("Acme"),
        stage=st.sampled_from(STAGES[1:]),
        close_date=st.dates(dt.date(2026, 2, 1), dt.date(2027, 6, 30)),
        contact_roles=st.just((("Legal", "003L"), ("Champion", "003C"))),
    )


TODAYS = st.dates(dt.date(2025, 12, 1), dt.date(2027, 6, 30))


def planned(mapping: StageMapping, opp: Opportunity, today: dt.date, state: Any = None
            ) -> DesiredPlan:
    result = plan(opp, state, mapping, BusinessCalendar.from_spec(mapping.calendar), today)
    assume(result is not None)
    assert result is not None
    return result


@FAST
@given(mappings(), opportunities(), TODAYS)
def test_scheduled_due_dates_respect_the_calendar_the_graph_and_the_close(
    mapping: StageMapping, opp: Opportunity, today: dt.date
) -> None:
    calendar = BusinessCalendar.from_spec(mapping.calendar)
    result = planned(mapping, opp, today)
    specs = {m.key: m for m in mapping.templates[0].milestones}
    due: dict[str, dt.date] = {}
    for m in result.milestones:
        assert m.due_date is not None
        due[m.key] = m.due_date
    assert opp.close_date is not None
    for key, due_date in due.items():
        assert calendar.is_business_day(due_date)
        spec = specs[key]
        for dep in spec.depends_on:
            if spec.anchor == "before_close":
                assert due[dep] <= calendar.add_business_days(due_date, -spec.duration)
            elif spec.duration:
                assert due_date >= calendar.add_business_days(due[dep], spec.duration)
            else:
                assert due_date >= due[dep]
        if spec.anchor == "before_close":
            assert due_date <= opp.close_date
        else:
            assert due_date >= opp.close_date


@FAST
@given(mappings(), opportunities(), TODAYS)
def test_percent_slip_and_projection_stay_in_range(
    mapping: StageMapping, opp: Opportunity, today: dt.date
) -> None:
    result = planned(mapping, opp, today)
    assert 0.0 <= result.percent_complete <= 100.0
    assert result.days_slipped >= 0
    assert result.projected_close_date >= result.target_close_date
    assert (result.slip_cause is None) == (result.days_slipped == 0)
    assert all(m.days_slipped >= 0 for m in result.milestones)
    for m in result.milestones:
        if m.status not in (DONE, SKIPPED) and m.due_date is not None:
            assert m.projected_date is not None
            assert m.projected_date >= m.due_date


@FAST
@given(mappings(), opportunities(), TODAYS, st.integers(0, 60))
def test_planning_a_written_unchanged_plan_changes_nothing(
    mapping: StageMapping, opp: Opportunity, today: dt.date, days_later: int
) -> None:
    first = planned(mapping, opp, today)
    state = state_after_writing(first)
    assert planned(mapping, opp, today, state) == first
    open_due = [m.due_date for m in first.milestones
                if m.status not in (DONE, SKIPPED) and m.due_date is not None]
    later = today + dt.timedelta(days=days_later)
    assume(all(m.days_slipped == 0 for m in first.milestones) and first.days_slipped == 0)
    assume(not open_due or later <= min(open_due))
    again = planned(mapping, opp, later, state)
    # only the progress clock moves: days since progress (and, once stale, health and cause)
    assert again.numbers.last_progress_date == first.numbers.last_progress_date == today
    assert replace(again, numbers=first.numbers, health=first.health,
                   slip_cause=first.slip_cause) == first
    if (again.numbers.days_since_progress or 0) < mapping.health.stale_after_days:
        assert (again.health, again.slip_cause) == (first.health, first.slip_cause)


@FAST
@given(mappings(), opportunities(), TODAYS, st.data())
def test_rep_edits_to_pinnable_fields_survive_any_replanning(
    mapping: StageMapping, opp: Opportunity, today: dt.date, data: st.DataObject
) -> None:
    state = state_after_writing(planned(mapping, opp, today))
    key = data.draw(st.sampled_from(sorted(state.milestones)))
    status = data.draw(st.sampled_from(("Not Started", "In Progress", "Done", "Blocked")))
    due_date = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
    milestones = dict(state.milestones)
    milestones[key] = dataclasses.replace(milestones[key], status=status, due_date=due_date)
    edited = dataclasses.replace(state, milestones=milestones)
    stage = data.draw(st.sampled_from(STAGES))
    close = data.draw(st.dates(dt.date(2026, 2, 1), dt.date(2027, 6, 30)))
    moved = dataclasses.replace(opp, stage=stage, close_date=close)
    later = today + dt.timedelta(days=data.draw(st.integers(0, 90)))
    calendar = BusinessCalendar.from_spec(mapping.calendar)
    result = plan(moved, edited, mapping, calendar, later)
    assert result is not None  # an existing plan is never dropped while the deal exists
    m = result.milestone(key)
    before = state.milestones[key]
    if status != before.status:
        assert m.status == status
        assert "Status__c" in m.pinned
    if due_date != before.due_date:
        assert m.due_date == due_date
        assert "Due_Date__c" in m.pinned
    assert m.baseline_due_date == before.baseline_due_date


@FAST
@given(mappings(), opportunities(), TODAYS, st.data())
def test_projections_respect_every_dependency_whatever_reps_changed(
    mapping: StageMapping, opp: Opportunity, today: dt.date, data: st.DataObject
) -> None:
    state = state_after_writing(planned(mapping, opp, today))
    milestones = dict(state.milestones)
    for key in data.draw(st.lists(st.sampled_from(sorted(milestones)), unique=True)):
        milestones[key] = dataclasses.replace(
            milestones[key],
            status=data.draw(st.sampled_from(("Not Started", "Done", "Skipped", "Blocked"))),
            due_date=data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))),
            completed_date=data.draw(st.none() | st.dates(dt.date(2026, 1, 1),
                                                           dt.date(2027, 12, 31))),
        )
    later = today + dt.timedelta(days=data.draw(st.integers(0, 120)))
    result = planned(mapping, opp, later, dataclasses.replace(state, milestones=milestones))
    calendar = BusinessCalendar.from_spec(mapping.calendar)
    specs = {m.key: m for m in mapping.templates[0].milestones}
    ends = {m.key: m.projected_date for m in result.milestones}
    for m in result.milestones:
        spec, end = specs[m.key], ends[m.key]
        assert end is not None
        if m.status in (DONE, SKIPPED):
            continue
        before = spec.anchor == "before_close"
        if before and opp.stage != "Closed Won":  # a won deal's close is its close date
            assert end <= result.projected_close_date
        starts = [] if before else [result.projected_close_date]
        starts += [
            e for dep in spec.depends_on
            if (e := ends[dep]) is not None and result.milestone(dep).status != SKIPPED
            and (not before or specs[dep].anchor == "before_close")
        ]
        for start in starts:
            earliest = (calendar.add_business_days(start, spec.duration) if spec.duration
                        else start if before else calendar.next_business_day(start))
            assert end >= earliest


@FAST
@given(
    mappings(),
    st.builds(
        Opportunity,
        id=st.just("006000000000001AAA"),
        name=st.text(max_size=5),
        stage=st.sampled_from(STAGES) | st.text(max_size=12),
        close_date=st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)),
        is_deleted=st.booleans(),
    ),
    st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)),
    st.booleans(),
)
def test_planner_answers_every_opportunity_without_raising(
    mapping: StageMapping, opp: Opportunity, today: dt.date, has_plan: bool
) -> None:
    calendar = BusinessCalendar.from_spec(mapping.calendar)
    state = None
    if has_plan:
        seed = dataclasses.replace(opp, stage="Qualification", close_date=today,
                                   is_deleted=False)
        first = plan(seed, None, mapping, calendar, today)
        assert first is not None
        state = state_after_writing(first)
    result = plan(opp, state, mapping, calendar, today)
    if opp.is_deleted:
        assert result is None
    elif state is not None:
        assert result is not None
