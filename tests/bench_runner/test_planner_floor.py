"""The planner benchmark's floor: a plan of each written plan's size, built with no rule."""

from __future__ import annotations

from dataclasses import replace

from sync.planner.calendar import BusinessCalendar
from sync.planner.planner import Planner
from sync.planner.written import state_after_writing
from tests.benchmarks.bench_planner import TODAY, floor_pass, opportunities
from tests.planner.sample_mapping import sample_mapping


def test_the_floor_reads_every_milestone_of_every_written_plan_and_builds_one_for_each() -> None:
    mapping = sample_mapping()
    planner = Planner(mapping, BusinessCalendar.from_spec(mapping.calendar))
    opps = opportunities(mapping, 40, seed=3)
    written = [state_after_writing(p) if p is not None else None
               for p in (planner.plan(o, None, TODAY) for o in opps)]
    assert None in written  # pages hold Opportunities with no plan too
    assert any(written)

    _, _, floor = floor_pass(written)

    assert len(floor) == len(written)
    for state, built in zip(written, floor, strict=True):
        if state is None:
            assert built is None
            continue
        assert built is not None
        assert [m.key for m in built.milestones] == list(state.milestones)
        assert [(m.status, m.due_date, m.owner_contact_id) for m in built.milestones] == [
            (s.status, s.due_date, s.owner_contact_id) for s in state.milestones.values()]


def test_a_milestone_a_rep_edited_is_left_to_the_rules_not_built_by_the_floor() -> None:
    mapping = sample_mapping()
    planner = Planner(mapping, BusinessCalendar.from_spec(mapping.calendar))
    desired = next(p for p in (planner.plan(o, None, TODAY)
                               for o in opportunities(mapping, 20, seed=5)) if p is not None)
    state = state_after_writing(desired)
    first = next(iter(state.milestones))
    edited = replace(state.milestones[first], name="Renamed by the rep")  # Salesforce's value
    state = replace(state, milestones={**state.milestones, first: edited})

    _, _, (built,) = floor_pass([state])

    assert built is not None
    assert [m.key for m in built.milestones] == list(state.milestones)[1:]
