"""Stage progress and the rep-pinned rule: a rep's edit always wins."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sync.planner.model import DONE, IN_PROGRESS, NOT_STARTED
from tests.planner.support import (
    CALENDAR,
    CLOSE,
    TODAY,
    due_dates,
    opportunity,
    rep_edits,
    run,
    statuses,
    written,
)

LATER = dt.date(2026, 1, 14)


def test_a_new_plan_starts_with_passed_stages_done_before_tracking() -> None:
    result = run(opportunity("Id. Decision Makers"))
    assert statuses(result) == {
        "discovery": DONE, "security": DONE, "legal": NOT_STARTED, "signature": NOT_STARTED,
        "kickoff": NOT_STARTED, "go_live": NOT_STARTED,
    }
    assert result.milestone("discovery").completed_date is None  # no day made up
    assert result.milestone("discovery").days_slipped == 0
    assert result.milestone("legal").completed_date is None


def test_reaching_a_stage_does_not_complete_its_milestone_passing_it_does() -> None:
    assert run(opportunity("Value Proposition")).milestone("security").status == NOT_STARTED
    assert run(opportunity("Id. Decision Makers")).milestone("security").status == DONE


def test_completed_date_is_the_day_a_tracked_milestone_was_seen_done() -> None:
    state = written(opportunity("Needs Analysis"))
    result = run(opportunity("Id. Decision Makers"), state, today=LATER)
    assert result.milestone("discovery").completed_date is None  # done before tracking
    assert result.milestone("security").completed_date == LATER
    state = written(opportunity("Id. Decision Makers"), LATER, state)
    again = run(opportunity("Id. Decision Makers"), state, today=LATER + dt.timedelta(days=9))
    assert again.milestone("security").completed_date == LATER
    assert again.milestone("discovery").completed_date is None


def test_stage_regression_reopens_only_stage_completed_milestones() -> None:
    state = written(opportunity("Id. Decision Makers"))
    state = rep_edits(state, "legal", status=DONE, completed_date=dt.date(2026, 1, 2))
    result = run(opportunity("Needs Analysis"), state, today=LATER)
    assert result.milestone("security").status == NOT_STARTED
    assert result.milestone("security").completed_date is None
    assert result.milestone("discovery").status == DONE  # its stage is still passed
    assert result.milestone("legal").status == DONE
    assert result.milestone("legal").completed_date == dt.date(2026, 1, 2)


def test_rep_completed_milestone_never_reopens() -> None:
    state = written(opportunity("Needs Analysis"))
    state = rep_edits(state, "security", status=DONE)
    passed = run(opportunity("Id. Decision Makers"), state)
    assert passed.milestone("security").completed_date == TODAY  # filled in when observed
    state = written(opportunity("Id. Decision Makers"), state=state)
    back = run(opportunity("Qualification"), state, today=LATER)
    assert back.milestone("security").status == DONE
    assert back.milestone("security").completed_date == TODAY
    assert back.milestone("discovery").status == NOT_STARTED


def test_stage_completion_a_rep_dated_is_the_reps_and_never_reopens() -> None:
    state = written(opportunity("Needs Analysis"))
    state = rep_edits(state, "discovery", completed_date=dt.date(2025, 12, 19))
    result = run(opportunity("Qualification"), state, today=LATER)
    assert result.milestone("discovery").status == DONE
    assert result.milestone("discovery").completed_date == dt.date(2025, 12, 19)


def test_rep_status_edit_is_never_overwritten_by_stage_progress() -> None:
    state = rep_edits(written(opportunity()), "security", status=IN_PROGRESS)
    result = run(opportunity("Id. Decision Makers"), state)
    assert result.milestone("security").status == IN_PROGRESS
    assert result.milestone("security").pinned == {"Status__c"}


def test_rep_edit_to_due_date_is_never_overwritten() -> None:
    committed = dt.date(2026, 3, 20)
    state = rep_edits(written(opportunity()), "legal", due_date=committed)
    for close in (CLOSE, dt.date(2026, 4, 30), dt.date(2026, 2, 27)):
        result = run(opportunity(close=close), state, today=LATER)
        assert result.milestone("legal").due_date == committed
        assert result.milestone("legal").pinned == {"Due_Date__c"}


def test_moved_close_date_moves_only_untouched_due_dates() -> None:
    state = written(opportunity())
    before = due_dates(run(opportunity(), state))
    state = rep_edits(state, "legal", due_date=dt.date(2026, 3, 27))
    moved = run(opportunity(close=dt.date(2026, 4, 14)), state)  # 10 business days later
    for m in moved.milestones:
        if m.key == "legal":
            assert m.due_date == dt.date(2026, 3, 27)
        else:
            previous = before[m.key]
            assert previous is not None
            assert m.due_date == CALENDAR.add_business_days(previous, 10)
        assert m.baseline_due_date == state.milestones[m.key].baseline_due_date


def test_rep_setting_a_field_back_to_what_mapsync_wrote_hands_it_back() -> None:
    state = written(opportunity())
    original = state.milestones["legal"].due_date
    state = rep_edits(state, "legal", due_date=dt.date(2026, 3, 2))
    state = rep_edits(state, "legal", due_date=original)
    result = run(opportunity(close=dt.date(2026, 4, 14)), state)
    assert result.milestone("legal").pinned == frozenset()
    assert result.milestone("legal").due_date != original


def test_field_mapsync_never_wrote_is_not_pinned_and_follows_the_plan() -> None:
    state = written(opportunity())
    legal = state.milestones["legal"]
    shadow = {k: v for k, v in legal.written.items() if k != "Status__c"}
    state = rep_edits(state, "legal", status=IN_PROGRESS, written=shadow)
    result = run(opportunity(), state)
    assert result.milestone("legal").pinned == frozenset()
    assert result.milestone("legal").status == NOT_STARTED


def test_pins_are_recognised_when_salesforce_values_arrive_as_text() -> None:
    state = written(opportunity())
    legal = state.milestones["legal"]
    as_text = {
        k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in legal.written.items()
    }
    state = rep_edits(state, "legal", written=as_text)
    assert run(opportunity(), state).milestone("legal").pinned == frozenset()


def test_owner_contact_starts_as_the_contact_in_the_milestones_role_on_the_buyer_side() -> None:
    roles = (("Security", "003S"), ("economic buyer", "003E"), ("Account Executive", "003A"),
             ("Security", "003T"))
    result = run(opportunity(contact_roles=roles))
    owners = {m.key: m.owner_contact_id for m in result.milestones}
    assert owners["security"] == "003S"  # the first contact in the role
    assert owners["signature"] == "003E"  # joint side; roles compare ignoring case
    assert owners["discovery"] is None  # seller side: no buyer contact
    assert owners["legal"] is None  # nobody in that role yet


def test_rep_owned_values_are_read_back_never_recomputed() -> None:
    opp = opportunity(contact_roles=(("Security", "003S"),))
    state = written(opp)
    state = rep_edits(state, "security", owner_contact_id="003X", notes="waiting for the SIG")
    state = dataclasses.replace(
        state, summary="Replace the legacy CRM", go_live_date=None, success_criteria=None
    )
    result = run(opp, state)
    assert result.milestone("security").owner_contact_id == "003X"  # never replaced
    assert result.milestone("security").notes == "waiting for the SIG"
    assert (result.summary, result.go_live_date, result.success_criteria) == (
        "Replace the legacy CRM", None, None
    )


def test_new_plan_takes_summary_criteria_and_go_live_from_the_template() -> None:
    result = run(opportunity())
    assert result.summary == "Why we are here"
    assert result.success_criteria == "Live by Q3"
    assert result.go_live_date == result.milestone("go_live").due_date


def test_baseline_is_the_first_committed_date_even_if_edited_in_salesforce() -> None:
    state = written(opportunity())
    first = state.milestones["legal"].baseline_due_date
    state = rep_edits(state, "legal", baseline_due_date=dt.date(2026, 1, 1))
    result = run(opportunity(close=dt.date(2026, 5, 29)), state)
    assert result.milestone("legal").baseline_due_date == first


def test_stage_the_mapping_does_not_know_leaves_progress_as_it_is() -> None:
    state = written(opportunity("Id. Decision Makers"))
    result = run(opportunity("Stalled (custom stage)"), state, today=LATER)
    assert statuses(result) == statuses(run(opportunity("Id. Decision Makers"), state))


def test_closed_won_deal_without_a_plan_gets_one_with_the_signature_done() -> None:
    result = run(opportunity("Closed Won"))
    assert result.milestone("signature").status == DONE
    assert result.milestone("signature").completed_date is None  # won before tracking
    assert result.milestone("go_live").status == NOT_STARTED
