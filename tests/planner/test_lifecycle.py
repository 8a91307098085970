"""Whether a plan exists, which template it follows, and its status through the deal."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from mappings.model import StageMapping
from sync.planner.model import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    DONE,
    NOT_STARTED,
    SKIPPED,
)
from sync.planner.planner import Planner, plan
from sync.planner.written import state_after_writing
from tests.planner.sample_mapping import sample_mapping
from tests.planner.support import (
    CALENDAR,
    MAPPING,
    TODAY,
    opportunity,
    rep_edits,
    run,
    statuses,
    written,
)


@pytest.mark.parametrize(
    ("stage", "has_plan"),
    [
        ("Prospecting", False),
        ("Qualification", True),
        ("Negotiation/Review", True),
        ("Closed Won", True),
        ("Closed Lost", False),
        ("qualification", True),  # stage names compare ignoring case, as Salesforce does
        ("Some Custom Stage", False),
    ],
)
def test_plan_is_created_once_the_stage_reaches_the_creation_stage(
    stage: str, has_plan: bool
) -> None:
    result = plan(opportunity(stage), None, MAPPING, CALENDAR, TODAY)
    assert (result is not None) is has_plan


def test_deleted_opportunity_has_no_plan_even_when_one_exists() -> None:
    state = written(opportunity())
    gone = dataclasses.replace(opportunity(), is_deleted=True)
    assert plan(gone, state, MAPPING, CALENDAR, TODAY) is None


def test_plan_is_kept_when_the_stage_moves_back_below_the_creation_stage() -> None:
    state = written(opportunity("Id. Decision Makers"))
    result = run(opportunity("Prospecting"), state)
    assert result.status == ACTIVE
    assert set(statuses(result).values()) == {NOT_STARTED}  # stage-completed ones reopen


def test_closed_lost_cancels_plan_and_leaves_milestones_as_they_are() -> None:
    state = written(opportunity("Id. Decision Makers"))
    state = rep_edits(state, "legal", status=DONE, completed_date=dt.date(2026, 1, 5))
    later = dt.date(2026, 6, 1)  # everything open is overdue by now
    result = run(opportunity("Closed Lost", close=dt.date(2026, 5, 29)), state, today=later)
    assert result.status == CANCELLED
    for m in result.milestones:
        before = state.milestones[m.key]
        assert (m.status, m.completed_date, m.due_date) == (
            before.status, before.completed_date, before.due_date
        )


def test_closed_won_keeps_post_close_milestones_live() -> None:
    won_on = dt.date(2026, 3, 20)
    result = run(opportunity("Closed Won"), written(opportunity()), today=won_on)
    assert statuses(result) == {
        "discovery": DONE, "security": DONE, "legal": DONE, "signature": DONE,
        "kickoff": NOT_STARTED, "go_live": NOT_STARTED,
    }
    assert result.milestone("legal").completed_date == won_on
    assert result.status == ACTIVE
    assert result.next_milestone == "Kickoff"


def test_plan_is_completed_once_every_milestone_is_done_or_skipped() -> None:
    state = written(opportunity("Closed Won"))
    state = rep_edits(state, "kickoff", status=DONE, completed_date=dt.date(2026, 4, 2))
    assert run(opportunity("Closed Won"), state).status == ACTIVE
    state = rep_edits(state, "go_live", status=SKIPPED)
    result = run(opportunity("Closed Won"), state)
    assert result.status == COMPLETED
    assert result.percent_complete == 100.0
    assert result.next_milestone is None
    assert result.next_due_date is None


def test_reopened_deal_reactivates_a_cancelled_plan() -> None:
    state = written(opportunity("Closed Lost"), state=written(opportunity()))
    assert state.status == CANCELLED
    assert run(opportunity("Negotiation/Review"), state).status == ACTIVE


def test_template_is_chosen_by_rule_with_the_default_as_fallback() -> None:
    mapping = sample_mapping()
    big = opportunity(amount=Decimal(250_000))
    small = opportunity(amount=Decimal(20_000))
    assert run(big, mapping=mapping).template == "enterprise"
    assert run(small, mapping=mapping).template == "mid_market"


def test_plan_keeps_its_template_when_the_opportunity_later_matches_another() -> None:
    mapping = sample_mapping()
    calendar = CALENDAR.from_spec(mapping.calendar)
    first = plan(opportunity(amount=Decimal(20_000)), None, mapping, calendar, TODAY)
    assert first is not None
    assert first.template == "mid_market"
    grown = plan(
        opportunity(amount=Decimal(500_000)), state_after_writing(first), mapping, calendar, TODAY
    )
    assert grown is not None
    assert grown.template == "mid_market"


def test_opportunity_no_template_applies_to_gets_no_plan() -> None:
    mapping = sample_mapping().model_copy(update={"default_template": None})
    calendar = CALENDAR.from_spec(mapping.calendar)
    assert plan(opportunity(amount=Decimal(10)), None, mapping, calendar, TODAY) is None
    assert plan(opportunity(amount=Decimal(10**6)), None, mapping, calendar, TODAY) is not None


def test_missing_close_date_falls_back_to_the_plans_target() -> None:
    state = written(opportunity())
    result = run(opportunity(close=None), state)
    assert result.target_close_date == state.target_close_date
    assert plan(opportunity(close=None), None, MAPPING, CALENDAR, TODAY) is None


def test_deals_sharing_close_date_and_stage_each_get_their_own_id_and_contacts() -> None:
    planner = Planner(MAPPING, CALENDAR)
    anon = dataclasses.replace(opportunity(), id="006000000000002AAA")
    named = opportunity(contact_roles=(("Security", "003S"),))
    first, second = planner.plan(anon, None, TODAY), planner.plan(named, None, TODAY)
    assert first is not None
    assert second is not None
    assert (first.opportunity_id, second.opportunity_id) == (anon.id, named.id)
    assert second.milestone("security").owner_contact_id == "003S"
    assert first.milestone("security").owner_contact_id is None
    assert second == Planner(MAPPING, CALENDAR).plan(named, None, TODAY)


def test_milestone_new_to_an_existing_plan_gets_its_initial_owner() -> None:
    opp = opportunity(contact_roles=(("Security", "003S"),))
    state = written(opp)
    milestones = {k: v for k, v in state.milestones.items() if k != "security"}
    result = run(opp, dataclasses.replace(state, milestones=milestones))
    assert result.milestone("security").owner_contact_id == "003S"


def test_first_plan_made_on_a_later_day_is_planned_for_that_day() -> None:
    planner = Planner(MAPPING, CALENDAR)
    first = planner.plan(opportunity(), None, TODAY)
    assert first is not None
    overdue_from = first.milestone("security").due_date + dt.timedelta(days=3)
    later = planner.plan(opportunity(), None, overdue_from)
    assert later is not None
    assert first.milestone("security").projected_date == first.milestone("security").due_date
    assert later.milestone("security").projected_date > first.milestone("security").due_date


def _rule_mapping() -> StageMapping:
    base = sample_mapping()
    steps = [m.model_dump(by_alias=True) for m in base.templates[1].milestones]
    rules = [
        ("partner", [{"field": "RecordType.Name", "equals": "Partner"}]),
        ("strategic", [{"field": "Strategic__c", "equals": True}]),
        ("one_seat", [{"field": "Strategic__c", "equals": 1}]),
        ("enterprise", [{"field": "Amount", "gte": 100000}]),
    ]
    templates = [{"name": n, "when": w, "milestones": steps} for n, w in rules]
    return StageMapping.model_validate({
        **base.model_dump(by_alias=True, exclude={"templates"}),
        "templates": [*templates, {"name": "mid_market", "milestones": steps}],
    })


@pytest.mark.parametrize(
    ("amount", "fields", "expected"),
    [
        (Decimal(250_000), {}, "enterprise"),
        (Decimal(20_000), {}, "mid_market"),
        (Decimal(100_000), {}, "enterprise"),
        (Decimal("99999.99"), {}, "mid_market"),
        (None, {}, "mid_market"),
        (None, {"RecordType": {"Name": "partner"}}, "partner"),
        (None, {"recordtype": {"name": "Direct"}}, "mid_market"),
        (None, {"Strategic__c": True}, "strategic"),
        (None, {"Strategic__c": 1}, "one_seat"),  # a number is not a checkbox
        (Decimal(250_000), {"Strategic__c": False}, "enterprise"),
    ],
)
def test_each_deal_gets_the_template_its_own_fields_select(
    amount: Decimal | None, fields: dict[str, object], expected: str
) -> None:
    mapping = _rule_mapping()
    planner = Planner(mapping, CALENDAR)
    for earlier in (Decimal(250_000), Decimal(20_000), None):  # answers already remembered
        planner.plan(opportunity(amount=earlier, fields={"Strategic__c": True}), None, TODAY)
        planner.plan(opportunity(amount=earlier), None, TODAY)
    result = planner.plan(opportunity(amount=amount, fields=fields), None, TODAY)
    assert result is not None
    assert result.template == expected
