"""The planner's steady-state shortcuts answer as the rules they shortcut, whatever reps did.

``steady.resolve_all`` recognises a milestone that is as mapsync wrote it and resolves it
without walking its pins; ``slip.project`` recognises a plan where nothing runs late and
projects it without walking the graph. These draw milestone states mapsync wrote and then let
a rep (or history, or a shadow missing a field) change any of the values the pin rule reads,
and plans on and off schedule, and require the very same answer as the general rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.planner.calendar import BusinessCalendar
from sync.planner.model import DONE, MilestoneState
from sync.planner.progress import resolve
from sync.planner.schedule import TemplateSchedule
from sync.planner.slip import project, pushed
from sync.planner.steady import resolve_all
from tests.planner.sample_mapping import sample_mapping

DAYS = st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
MAYBE_DAY = st.none() | DAYS
STATUSES = st.sampled_from(("Not Started", "In Progress", "Done", "Blocked", "Skipped", None))
TEXT = st.sampled_from(("Security review", "Legal", "", None))
IDS = st.sampled_from(("003A", "003B", "005A", None))
PINNABLE = ("Status__c", "Completed_Date__c", "Due_Date__c", "Name", "Why_It_Matters__c",
            "Owner_Contact__c", "Owner_User__c")


@st.composite
def states(draw: st.DrawFn) -> MilestoneState | None:
    """A milestone as mapsync wrote it, then maybe changed: by a rep, by field history, or
    with a shadow that lacks fields (a plan mapsync adopted, or an older shadow)."""
    if draw(st.integers(0, 9)) == 0:
        return None
    values: dict[str, Any] = {
        "Status__c": draw(STATUSES), "Completed_Date__c": draw(MAYBE_DAY),
        "Due_Date__c": draw(MAYBE_DAY), "Name": draw(TEXT), "Why_It_Matters__c": draw(TEXT),
        "Owner_Contact__c": draw(IDS), "Owner_User__c": draw(IDS),
    }
    if values["Status__c"] == DONE and draw(st.booleans()):
        values["Completed_Date__c"] = None  # done before tracking
    written: dict[str, Any] = {**values, "Baseline_Due_Date__c": draw(
        st.one_of(DAYS, st.none(), DAYS.map(dt.date.isoformat)))}
    for field in draw(st.sets(st.sampled_from([*PINNABLE, "Baseline_Due_Date__c"]),
                              max_size=2)):
        del written[field]  # never written
    held = dict(values)
    for field in draw(st.sets(st.sampled_from(PINNABLE), max_size=2)):  # a rep's edits
        strategy = {"Status__c": STATUSES, "Completed_Date__c": MAYBE_DAY,
                    "Due_Date__c": MAYBE_DAY, "Owner_Contact__c": IDS, "Owner_User__c": IDS}
        held[field] = draw(strategy.get(field, TEXT))
    if held["Due_Date__c"] is not None and draw(st.booleans()):  # the same day, as text
        written["Due_Date__c"] = held["Due_Date__c"].isoformat()
    return MilestoneState(
        key="m", status=held["Status__c"], completed_date=held["Completed_Date__c"],
        due_date=held["Due_Date__c"], baseline_due_date=draw(MAYBE_DAY),
        owner_contact_id=held["Owner_Contact__c"], name=held["Name"],
        why=held["Why_It_Matters__c"], owner_user_id=held["Owner_User__c"],
        written={} if draw(st.integers(0, 9)) == 0 else written,
        rep_pins=frozenset(draw(st.sets(st.sampled_from(PINNABLE[:5]), max_size=1))),
    )


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(states(), st.sampled_from((True, False, None)), DAYS),
                min_size=1, max_size=6),
       DAYS, st.booleans())
def test_the_steady_state_shortcut_resolves_as_the_rule_does(
    milestones: list[tuple[MilestoneState | None, bool | None, dt.date]],
    today: dt.date, frozen: bool,
) -> None:
    found = [m[0] for m in milestones]
    done = [m[1] for m in milestones]
    scheduled = [m[2] for m in milestones]
    expected = [resolve(s, d, due, today, frozen) for s, d, due in milestones]
    assert resolve_all(found, done, scheduled, today, frozen) == expected


def test_a_milestone_as_written_takes_the_shortcut_and_one_a_rep_edited_does_not() -> None:
    day = dt.date(2026, 3, 2)
    written = {"Status__c": "Not Started", "Completed_Date__c": None, "Due_Date__c": day,
               "Name": "Legal", "Why_It_Matters__c": None, "Owner_Contact__c": "003A",
               "Owner_User__c": None, "Baseline_Due_Date__c": day}
    as_written = MilestoneState(key="m", due_date=day, owner_contact_id="003A", name="Legal",
                                written=written)
    edited = MilestoneState(key="m", due_date=day + dt.timedelta(days=7),
                            owner_contact_id="003A", name="Legal", written=written)
    [steady, pinned] = resolve_all([as_written, edited], [True, False], [day, day], day, False)
    assert (steady.status, steady.completed_date, steady.pinned) == ("Done", day, frozenset())
    assert (pinned.due_date, pinned.pinned) == (day + dt.timedelta(days=7),
                                                frozenset({"Due_Date__c"}))


SAMPLE = sample_mapping()
SAMPLE_CALENDAR = BusinessCalendar.from_spec(SAMPLE.calendar)
GRAPHS = {t.name: TemplateSchedule(t, SAMPLE_CALENDAR) for t in SAMPLE.templates}


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(sorted(GRAPHS)), DAYS, st.data())
def test_a_plan_on_schedule_projects_as_walking_its_graph_does(
    template: str, close: dt.date, data: st.DataObject
) -> None:
    """``project``'s shortcut for a plan where nothing runs late, against ``pushed``: open
    milestones due on or off their work-back dates, overdue or not, done late or early,
    skipped, and held plans whose stored dates are the schedule (after the close too)."""
    schedule = GRAPHS[template]
    n = len(schedule.graph.keys)
    scheduled = list(schedule.due_dates(close))
    near = st.integers(-3, 3).map(lambda d: dt.timedelta(days=d))
    if data.draw(st.booleans()):  # a held plan: its stored dates are its schedule
        scheduled = [d + data.draw(near) for d in scheduled]
    statuses = data.draw(st.lists(st.sampled_from(("Not Started", "Done", "Skipped",
                                                   "Blocked")), min_size=n, max_size=n))
    due = [d + data.draw(near) if data.draw(st.integers(0, 4)) == 0 else d for d in scheduled]
    completed = [d + data.draw(near) if s == "Done" and data.draw(st.booleans()) else None
                 for d, s in zip(due, statuses, strict=True)]
    today = data.draw(DAYS)
    today_for = [data.draw(st.sampled_from((today, None))) for _ in range(n)]
    args = (schedule.graph, SAMPLE_CALENDAR, close, scheduled, statuses, due, completed,
            today_for)
    assert project(*args) == pushed(*args)
