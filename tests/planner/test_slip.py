"""Slip, projections, slip cause, health and the Opportunity rollup."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings.model import HealthThresholds
from sync.planner.model import AT_RISK, DONE, OFF_TRACK, ON_TRACK, SKIPPED
from sync.planner.slip import health
from tests.planner.sample_mapping import small_mapping
from tests.planner.support import (
    CLOSE,
    TODAY,
    opportunity,
    rep_edits,
    run,
    written,
)

D = dt.date


def test_untouched_plan_on_schedule_has_no_slip() -> None:
    result = run(opportunity("Needs Analysis"))
    assert result.projected_close_date == CLOSE
    assert (result.days_slipped, result.health, result.slip_cause) == (0, ON_TRACK, None)
    assert all(m.days_slipped == 0 for m in result.milestones)
    assert all(m.projected_date == m.due_date for m in result.milestones if m.status != DONE)


def test_overdue_open_milestones_slip_until_today_and_push_the_close() -> None:
    state = written(opportunity("Needs Analysis"))
    result = run(opportunity("Needs Analysis"), state, today=D(2026, 4, 2))  # a Thursday
    security = result.milestone("security")
    assert security.days_slipped == 3  # due Mon 30 Mar: 31 Mar, 1 Apr, 2 Apr
    assert security.projected_date == D(2026, 4, 2)
    assert result.milestone("signature").projected_date == D(2026, 4, 3)
    assert result.projected_close_date == D(2026, 4, 3)
    assert (result.days_slipped, result.health) == (3, AT_RISK)
    assert result.slip_cause == "Security (Buyer)"
    assert result.milestone("kickoff").projected_date == D(2026, 4, 10)  # 5 days after it


def test_rep_moving_a_due_date_is_a_commitment_change_that_moves_what_follows() -> None:
    state = rep_edits(written(opportunity()), "security", due_date=D(2026, 4, 7))
    result = run(opportunity(), state)
    security, signature = result.milestone("security"), result.milestone("signature")
    assert security.due_date == D(2026, 4, 7)
    assert security.baseline_due_date == D(2026, 3, 30)
    assert security.days_slipped == 6
    assert signature.due_date == CLOSE
    assert signature.days_slipped == 0
    assert signature.projected_date == D(2026, 4, 8)
    assert result.projected_close_date == D(2026, 4, 8)
    assert (result.days_slipped, result.health) == (6, AT_RISK)
    assert result.slip_cause == "Security (Buyer)"


def test_slip_of_ten_business_days_puts_the_plan_off_track() -> None:
    state = rep_edits(written(opportunity()), "legal", due_date=D(2026, 4, 13))
    result = run(opportunity(), state)
    assert (result.days_slipped, result.health) == (10, OFF_TRACK)
    assert result.slip_cause == "Legal (Buyer)"


def test_moved_close_date_slips_milestones_but_not_the_plan() -> None:
    state = written(opportunity())
    result = run(opportunity(close=D(2026, 4, 14)), state)
    assert {m.days_slipped for m in result.milestones} == {10}
    assert result.projected_close_date == D(2026, 4, 14)
    assert (result.days_slipped, result.health, result.slip_cause) == (0, ON_TRACK, None)


def test_late_completion_pushes_the_milestones_waiting_for_it() -> None:
    state = rep_edits(written(opportunity("Needs Analysis")), "legal", status=DONE)
    late = D(2026, 4, 2)
    result = run(opportunity("Id. Decision Makers"), state, today=late)
    assert result.milestone("security").completed_date == late
    assert result.milestone("security").days_slipped == 0  # slip is due date vs baseline
    assert result.projected_close_date == D(2026, 4, 3)
    assert result.slip_cause == "Security (Buyer)"


@pytest.mark.parametrize(
    ("legal_status", "slipped", "cause"),
    [
        ("Not Started", 2, "Legal (Buyer)"),  # overdue: pushes the signature a day further
        (SKIPPED, 1, "Signature (Joint)"),  # skipped: holds nobody up
    ],
)
def test_skipped_milestone_holds_nobody_up(legal_status: str, slipped: int, cause: str) -> None:
    state = written(opportunity())
    state = rep_edits(state, "security", status=DONE, completed_date=D(2026, 3, 2))
    state = rep_edits(state, "legal", status=legal_status)
    result = run(opportunity(), state, today=D(2026, 4, 1))
    assert (result.days_slipped, result.slip_cause) == (slipped, cause)


def test_cancelled_plan_stops_slipping_with_the_calendar() -> None:
    state = written(opportunity("Closed Lost"), state=written(opportunity()))
    first = run(opportunity("Closed Lost"), state, today=D(2026, 5, 4))
    assert run(opportunity("Closed Lost"), state, today=D(2026, 6, 1)) == first
    assert first.days_slipped == 0


def test_won_deal_before_close_steps_no_longer_run_late() -> None:
    state = rep_edits(written(opportunity()), "security", status="In Progress")
    result = run(opportunity("Closed Won"), state, today=D(2026, 3, 31))
    later = run(opportunity("Closed Won"), state, today=D(2026, 4, 30))
    assert result.milestone("security").status == "In Progress"
    assert later.milestone("security").days_slipped == 0
    assert later.milestone("kickoff").days_slipped > 0  # after-close steps are live


@pytest.mark.parametrize(
    ("slipped", "thresholds", "expected"),
    [
        (0, HealthThresholds(), ON_TRACK),
        (1, HealthThresholds(), AT_RISK),
        (9, HealthThresholds(), AT_RISK),
        (10, HealthThresholds(), OFF_TRACK),
        (3, HealthThresholds(at_risk_days=5, off_track_days=20), ON_TRACK),
        (0, HealthThresholds(at_risk_days=0, off_track_days=0), ON_TRACK),
        (1, HealthThresholds(at_risk_days=0, off_track_days=0), OFF_TRACK),
    ],
)
def test_health_follows_the_mappings_thresholds(
    slipped: int, thresholds: HealthThresholds, expected: str
) -> None:
    assert health(slipped, thresholds) == expected


def test_health_thresholds_come_from_the_mapping() -> None:
    lenient = small_mapping(at_risk_days=5, off_track_days=20)
    state = written(opportunity())
    result = run(opportunity(), state, today=D(2026, 4, 2), mapping=lenient)
    assert (result.days_slipped, result.health) == (3, ON_TRACK)


def test_percent_complete_and_next_milestone() -> None:
    result = run(opportunity("Id. Decision Makers"))
    assert result.percent_complete == 33.33
    assert (result.next_milestone, result.next_due_date) == ("Legal", D(2026, 3, 30))


def test_opportunity_rollup_mirrors_the_plan() -> None:
    state = rep_edits(written(opportunity()), "security", due_date=D(2026, 4, 7))
    result = run(opportunity(), state, today=TODAY)
    assert result.opportunity_rollup() == {
        "MAP_Health__c": AT_RISK,
        "MAP_Percent_Complete__c": 16.67,  # discovery is done at Needs Analysis
        "MAP_Days_Slipped__c": 6,
        "MAP_Projected_Close_Date__c": D(2026, 4, 8),
        "MAP_Buyer_On_Time_Rate__c": result.numbers.buyer_on_time_rate,
        "MAP_Seller_On_Time_Rate__c": result.numbers.seller_on_time_rate,
        "MAP_Days_Since_Progress__c": result.numbers.days_since_progress,
    }
