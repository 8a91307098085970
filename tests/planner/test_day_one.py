"""Plans right from the first sync: first sight is not slip, a won deal is not late, deleted
milestones do not count, added ones do, reps' wording stays, the template is the plan's own."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sync.planner.model import (
    AT_RISK,
    COMPLETED,
    DONE,
    NOT_STARTED,
    OFF_TRACK,
    ON_TRACK,
    MilestoneState,
    PlanState,
)
from sync.planner.written import state_after_writing
from tests.planner.sample_mapping import sample_mapping
from tests.planner.support import CALENDAR, CLOSE, TODAY, opportunity, rep_edits, run, written

LATE_START = dt.date(2026, 3, 2)  # the plan starts four weeks before its close


def test_first_sync_marks_early_milestones_done_without_slip() -> None:
    # discovery and security were due long before mapsync first saw the deal
    result = run(opportunity("Perception Analysis"), today=LATE_START)
    for key in ("discovery", "security"):
        m = result.milestone(key)
        assert m.status == DONE
        assert m.completed_date is None
        assert m.days_slipped == 0
    assert result.health == ON_TRACK
    assert result.days_slipped == 0
    assert result.slip_cause is None
    assert result.projected_close_date == CLOSE


def test_milestone_done_before_tracking_stays_undated_on_later_cycles() -> None:
    state = written(opportunity("Perception Analysis"), LATE_START)
    later = run(opportunity("Perception Analysis"), state, today=LATE_START + dt.timedelta(7))
    assert later.milestone("discovery").completed_date is None
    assert later.health == ON_TRACK


def test_adopted_plan_keeps_its_done_milestones_undated() -> None:
    # a plan mapsync did not write (no shadow): what is Done is done before tracking
    state = PlanState(template="small", milestones={
        "discovery": MilestoneState("discovery", status=DONE),
        "security": MilestoneState("security", status=NOT_STARTED),
    })
    result = run(opportunity("Perception Analysis"), state, today=LATE_START)
    assert result.milestone("discovery").completed_date is None
    assert result.milestone("security").completed_date is None  # done by stage at adoption
    assert result.health == ON_TRACK


def test_slip_counts_from_the_first_cycle_that_saw_a_milestone_open() -> None:
    state = written(opportunity("Needs Analysis"))
    late_day = dt.date(2026, 3, 31)  # security was due on the 30th
    after_due = run(opportunity("Needs Analysis"), state, today=late_day)
    assert after_due.milestone("security").days_slipped > 0  # tracked open, now overdue
    completed_late = run(opportunity("Perception Analysis"), state, today=late_day)
    assert completed_late.milestone("security").completed_date == late_day
    assert completed_late.projected_close_date > CLOSE


def test_closed_won_plan_is_never_off_track_and_projects_its_close_date() -> None:
    won_close = dt.date(2026, 1, 20)
    today = dt.date(2026, 3, 2)  # the deal was won six weeks ago, first seen today
    result = run(opportunity("Closed Won", close=won_close), today=today)
    assert result.health == ON_TRACK
    assert result.projected_close_date == won_close
    assert result.days_slipped == 0
    # an open before-close step the rep pinned does not make a won deal late either
    state = written(opportunity("Negotiation/Review", close=won_close), dt.date(2026, 1, 5))
    state = rep_edits(state, "signature", status="Blocked")
    won = run(opportunity("Closed Won", close=won_close), state, today=today)
    assert won.health == ON_TRACK
    assert won.projected_close_date == won_close


def test_deleted_milestone_is_not_next_nor_counted() -> None:
    state = dataclasses.replace(written(opportunity("Needs Analysis")), deleted={"security"})
    milestones = {k: v for k, v in state.milestones.items() if k != "security"}
    state = dataclasses.replace(state, milestones=milestones)
    result = run(opportunity("Value Proposition"), state)
    assert "security" not in {m.key for m in result.milestones}
    assert result.next_milestone != "Security"
    assert result.percent_complete == 20.0  # discovery of five


def test_won_deal_whose_remaining_milestone_was_deleted_is_completed() -> None:
    won = opportunity("Closed Won")
    state = written(won)
    state = rep_edits(state, "kickoff", status=DONE)
    deleted = {k for k in state.milestones if k == "go_live"}
    state = dataclasses.replace(
        state, deleted=deleted,
        milestones={k: v for k, v in state.milestones.items() if k not in deleted})
    result = run(won, state)
    assert result.status == COMPLETED
    assert result.percent_complete == 100.0


def test_rep_added_milestone_counts_in_percent_next_and_health() -> None:
    state = written(opportunity("Needs Analysis"))
    added = MilestoneState("a0X000000000001AAA", status=NOT_STARTED,
                           due_date=dt.date(2026, 1, 7), name="Procurement portal")
    state = dataclasses.replace(state, milestones={**state.milestones, added.key: added})
    result = run(opportunity("Needs Analysis"), state)
    assert result.next_milestone == "Procurement portal"
    assert result.percent_complete == round(100 * 1 / 7, 2)
    assert added.key not in {m.key for m in result.milestones}  # the rep's, never written
    for key in ("discovery", "security", "legal", "signature"):  # the template's work is done
        state = rep_edits(state, key, status=DONE, completed_date=TODAY)
    late = run(opportunity("Needs Analysis", close=dt.date(2026, 1, 9)), state,
               today=dt.date(2026, 1, 21))
    assert late.projected_close_date == dt.date(2026, 1, 21)  # it can finish today at best
    assert late.slip_cause == "Procurement portal (Rep-added)"


def test_rep_renamed_milestone_keeps_its_name_and_why() -> None:
    state = written(opportunity())
    state = rep_edits(state, "legal", name="Legal (MSA redlines)", why="Their MSA, not ours")
    result = run(opportunity(), state)
    m = result.milestone("legal")
    assert (m.name, m.why) == ("Legal (MSA redlines)", "Their MSA, not ours")
    assert {"Name", "Why_It_Matters__c"} <= m.pinned
    assert run(opportunity(), state).milestone("security").name == "Security"


def test_template_follows_what_mapsync_wrote_not_a_reps_edit() -> None:
    mapping = sample_mapping()
    opp = opportunity(amount=Decimal(50_000))
    state = state_after_writing(run(opp, mapping=mapping))
    assert state.template == "mid_market"
    typed_over = dataclasses.replace(state, template="enterprise")  # a rep's inline edit
    result = run(opp, typed_over, mapping=mapping)
    assert result.template == "mid_market"
    assert {m.key for m in result.milestones} == set(state.milestones)


def test_off_track_on_day_one_only_when_the_work_cannot_fit() -> None:
    too_late = run(opportunity("Qualification", close=dt.date(2026, 1, 6)))
    assert too_late.health in (AT_RISK, OFF_TRACK)  # discovery, security, signature: 8 days
    # of work from today, one business day to the close
    assert CALENDAR.business_days_between(TODAY, too_late.projected_close_date) == 6


def test_empty_owner_is_filled_from_a_role_named_later_and_a_chosen_one_kept() -> None:
    state = written(opportunity())
    assert state.milestones["security"].owner_contact_id is None
    state = rep_edits(state, "legal", owner_contact_id="003PICKED")
    later = opportunity(contact_roles=(("Security", "003SEC"), ("Legal", "003LEG")))
    result = run(later, state)
    assert result.milestone("security").owner_contact_id == "003SEC"
    assert result.milestone("legal").owner_contact_id == "003PICKED"
    assert result.milestone("discovery").owner_contact_id is None  # seller side


def test_seller_milestones_follow_the_opportunity_owner_until_a_rep_names_another() -> None:
    owned = opportunity(fields={"OwnerId": "005OWNER"})
    first = run(owned)
    assert first.milestone("discovery").owner_user_id == "005OWNER"  # seller side
    assert first.milestone("security").owner_user_id is None  # buyer side
    state = rep_edits(state_after_writing(first), "kickoff", owner_user_id="005CSM")
    later = run(dataclasses.replace(owned, fields={"OwnerId": "005NEW"}), state)
    assert later.milestone("kickoff").owner_user_id == "005CSM"  # the rep's choice stands
    assert later.milestone("discovery").owner_user_id == "005NEW"  # the deal changed hands


def test_seller_milestone_owned_by_team_member_with_its_role_ignoring_case() -> None:
    team = (("Sales Rep", "005REP"), ("customer success manager", "005CSM"),
            ("Customer Success Manager", "005CSM2"))
    deal = opportunity(fields={"OwnerId": "005OWNER"}, team=team)
    first = run(deal)
    assert first.milestone("kickoff").owner_user_id == "005CSM"  # the first in the role
    assert first.milestone("discovery").owner_user_id == "005OWNER"  # no Account Executive
    state = state_after_writing(first)
    joined = (("Account Executive", "005AE"), *team)
    later = run(dataclasses.replace(deal, team=joined), state)
    assert later.milestone("discovery").owner_user_id == "005AE"
    left = run(dataclasses.replace(deal, team=()), state_after_writing(later, state))
    assert left.milestone("kickoff").owner_user_id == "005OWNER"  # the manager left the team


def test_owner_contact_a_rep_cleared_is_not_filled_again() -> None:
    named = opportunity(contact_roles=(("Security", "003SEC"),))
    state = state_after_writing(run(named))
    assert state.milestones["security"].owner_contact_id == "003SEC"
    cleared = rep_edits(state, "security", owner_contact_id=None)
    assert run(named, cleared).milestone("security").owner_contact_id is None


def test_a_milestone_mapsync_wrote_for_a_dropped_key_is_not_a_reps_step() -> None:
    state = written(opportunity("Needs Analysis"))
    leftover = MilestoneState("old_step", status=NOT_STARTED, due_date=dt.date(2026, 1, 6),
                              name="Old step", written={"Status__c": NOT_STARTED})
    state = dataclasses.replace(state, milestones={**state.milestones, leftover.key: leftover})
    result = run(opportunity("Needs Analysis"), state)
    assert result.next_milestone != "Old step"
    assert result.percent_complete == round(100 * 1 / 6, 2)


def test_milestone_first_seen_open_and_overdue_slips_from_that_day_on() -> None:
    # a deal found at Qualification four days before its close: discovery is overdue already
    day_one, found = LATE_START, opportunity("Qualification", close=dt.date(2026, 3, 6))
    state = written(found, day_one)
    first = run(found, state, today=day_one)
    assert first.milestone("discovery").due_date < day_one  # shown as due when it was
    assert first.milestone("discovery").days_slipped == 0
    week_later = run(found, state, today=day_one + dt.timedelta(7))
    assert week_later.milestone("discovery").days_slipped == 5  # counted from day one
