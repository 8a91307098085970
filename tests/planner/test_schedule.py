"""Work-back scheduling over a template's dependency graph."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from config.errors import MappingError
from mappings.model import Template
from sync.planner.calendar import BusinessCalendar
from sync.planner.schedule import TemplateSchedule

D = dt.date
WEEKDAYS = BusinessCalendar()


def template(*milestones: dict[str, Any]) -> Template:
    return Template.model_validate({"name": "t", "milestones": list(milestones)})


def step(key: str, duration: int = 0, deps: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]:
    return {"key": key, "name": key, "side": "Buyer", "role": "Champion",
            "duration": duration, "depends_on": list(deps), **kw}


def dates(t: Template, close: dt.date, calendar: BusinessCalendar = WEEKDAYS) -> dict[str, dt.date]:
    schedule = TemplateSchedule(t, calendar)
    return dict(zip(schedule.graph.keys, schedule.due_dates(close), strict=True))


def test_last_step_before_close_is_due_on_the_close_date_and_earlier_ones_work_back() -> None:
    chain = template(step("a", 2), step("b", 3, ("a",)), step("c", 1, ("b",)))
    # close Tue 2026-03-31: c due then; c takes 1 day so b is due Mon 30th;
    # b takes 3 business days (Thu 26th, Fri 27th, Mon 30th), so a is due Wed 25th
    assert dates(chain, D(2026, 3, 31)) == {
        "a": D(2026, 3, 25), "b": D(2026, 3, 30), "c": D(2026, 3, 31)
    }


def test_close_date_on_a_weekend_caps_due_dates_at_the_friday_before() -> None:
    chain = template(step("a", 1), step("b", 0, ("a",)))
    assert dates(chain, D(2026, 3, 28)) == {"a": D(2026, 3, 27), "b": D(2026, 3, 27)}


def test_a_step_is_due_before_the_earliest_start_of_everything_waiting_for_it() -> None:
    fan = template(step("a", 1), step("slow", 10, ("a",)), step("quick", 2, ("a",)))
    result = dates(fan, D(2026, 3, 31))
    assert result["slow"] == result["quick"] == D(2026, 3, 31)
    assert result["a"] == D(2026, 3, 17)  # 10 business days before the 31st


def test_work_back_skips_holidays() -> None:
    t = template(step("a", 1), step("b", 1, ("a",)))
    calendar = BusinessCalendar(country="US")
    # close Fri 2026-11-27; b starts the day after Wed 25th (Thanksgiving is off)
    assert dates(t, D(2026, 11, 27), calendar) == {"a": D(2026, 11, 25), "b": D(2026, 11, 27)}
    # close on Thanksgiving itself: capped at Wednesday
    assert dates(t, D(2026, 11, 26), calendar)["b"] == D(2026, 11, 25)


def test_steps_after_close_run_forward_from_the_close_date() -> None:
    t = template(
        step("signature", 1),
        step("kickoff", 5, ("signature",), anchor="after_close"),
        step("go_live", 20, ("kickoff",), anchor="after_close"),
        step("survey", 0, anchor="after_close"),
    )
    result = dates(t, D(2026, 3, 28))  # a Saturday
    assert result["signature"] == D(2026, 3, 27)
    assert result["kickoff"] == D(2026, 4, 3)  # 5 business days after the close
    assert result["go_live"] == D(2026, 5, 1)
    assert result["survey"] == D(2026, 3, 30)  # zero days: the first business day from close


def test_before_close_step_waiting_for_an_after_close_one_is_scheduled_without_it() -> None:
    t = template(step("late", 5, anchor="after_close"), step("early", 0, ("late",)))
    assert dates(t, D(2026, 3, 31))["early"] == D(2026, 3, 31)


def test_dependency_cycle_is_a_mapping_error_naming_the_steps() -> None:
    t = template(step("a", 1, ("b",)), step("b", 1, ("a",)), step("c"))
    with pytest.raises(MappingError, match="a, b"):
        TemplateSchedule(t, WEEKDAYS)


def test_topological_order_keeps_template_order_between_independent_steps() -> None:
    t = template(step("x"), step("y", 0, ("z",)), step("z"), step("w"))
    graph = TemplateSchedule(t, WEEKDAYS).graph
    assert [graph.keys[i] for i in graph.order] == ["x", "z", "y", "w"]


def test_dates_for_one_close_date_are_computed_once() -> None:
    schedule = TemplateSchedule(template(step("a", 3)), WEEKDAYS)
    assert schedule.due_dates(D(2026, 3, 31)) is schedule.due_dates(D(2026, 3, 31))
