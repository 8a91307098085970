"""The numbers of a MAP: on-time rates per side, a plan that stopped moving, compelling events."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sync.planner.model import AT_RISK, DONE, ON_TRACK, MilestoneState
from tests.planner.sample_mapping import small_mapping
from tests.planner.support import CALENDAR, TODAY, opportunity, rep_edits, run, written

D = dt.date
STALE = small_mapping(at_risk_days=1, off_track_days=10, stale_after_days=15)


def test_a_new_plan_has_moved_today_and_rates_only_for_sides_with_something_due() -> None:
    result = run(opportunity())  # discovery (seller) completes at Needs Analysis, early
    assert result.numbers.last_progress_date == TODAY
    assert result.numbers.days_since_progress == 0
    assert result.numbers.seller_on_time_rate == 100.0
    assert result.numbers.buyer_on_time_rate is None  # nothing of the buyer's was due yet
    assert result.fields()["Seller_On_Time_Rate__c"] == 100.0
    assert result.opportunity_rollup()["MAP_Buyer_On_Time_Rate__c"] is None


def test_on_time_rates_count_done_by_due_date_and_open_past_due_as_late() -> None:
    state = written(opportunity())
    state = rep_edits(state, "security", status=DONE, completed_date=D(2026, 3, 27))  # due 3-30
    state = rep_edits(state, "legal", status=DONE, completed_date=D(2026, 4, 1))  # late
    result = run(opportunity(), state, today=D(2026, 4, 2))  # signature (joint) due 3-31, open
    # buyer: security on time; legal late; signature late (joint counts for both sides)
    assert result.numbers.buyer_on_time_rate == 33.33
    # seller: discovery on time; signature late
    assert result.numbers.seller_on_time_rate == 50.0
    assert result.opportunity_rollup()["MAP_Seller_On_Time_Rate__c"] == 50.0


def test_a_plan_nobody_moved_for_the_mapping_days_is_at_risk_and_says_why() -> None:
    state = written(opportunity())
    fourteen = CALENDAR.add_business_days(TODAY, 14)
    still = run(opportunity(), state, today=fourteen, mapping=STALE)
    assert (still.health, still.slip_cause) == (ON_TRACK, None)
    assert still.numbers.days_since_progress == 14
    fifteen = CALENDAR.add_business_days(TODAY, 15)
    stale = run(opportunity(), state, today=fifteen, mapping=STALE)
    assert (stale.health, stale.slip_cause) == (AT_RISK, "no progress for 15 days")
    assert stale.numbers.last_progress_date == TODAY
    assert stale.opportunity_rollup()["MAP_Days_Since_Progress__c"] == 15


def test_a_rep_touching_a_milestone_is_progress() -> None:
    state = written(opportunity())
    touched = CALENDAR.add_business_days(TODAY, 12)
    state = rep_edits(state, "legal", touched_on=touched)
    later = CALENDAR.add_business_days(TODAY, 20)
    result = run(opportunity(), state, today=later, mapping=STALE)
    assert result.numbers.last_progress_date == touched
    assert result.numbers.days_since_progress == 8
    assert result.health == ON_TRACK


def test_progress_is_remembered_on_the_plan_once_mapsync_wrote_over_the_rep() -> None:
    touched = CALENDAR.add_business_days(TODAY, 12)
    state = dataclasses.replace(written(opportunity()), last_progress_date=touched)
    result = run(opportunity(), state, today=CALENDAR.add_business_days(TODAY, 20),
                 mapping=STALE)
    assert result.numbers.last_progress_date == touched


def test_a_closed_plan_neither_goes_stale_nor_counts_days() -> None:
    state = written(opportunity())
    result = run(opportunity("Closed Lost"), state, today=CALENDAR.add_business_days(TODAY, 40),
                 mapping=STALE)
    assert result.numbers.days_since_progress is None
    assert result.slip_cause is None


def test_a_projected_close_past_the_compelling_event_says_so() -> None:
    state = dataclasses.replace(written(opportunity()), compelling_event_date=D(2026, 3, 20),
                                compelling_event="Contract renewal")
    result = run(opportunity(), state)
    assert result.slip_cause == ("projected close 2026-03-31 passes the compelling event "
                                 "(Contract renewal) on 2026-03-20")
    assert (result.compelling_event_date, result.compelling_event) == \
        (D(2026, 3, 20), "Contract renewal")  # the rep's, carried unchanged
    met = run(opportunity(), dataclasses.replace(state, compelling_event_date=D(2026, 4, 30)))
    assert met.slip_cause is None


def test_a_milestone_changed_by_anyone_but_mapsync_was_touched_that_day() -> None:
    record = {"Key__c": "legal", "LastModifiedById": "005REP",
              "SystemModstamp": "2026-02-03T17:04:05.000+0000"}
    touched = MilestoneState.from_record(record, {}, mapsync_user="005MAPSYNC").touched_on
    assert touched == D(2026, 2, 3)
    mine = {**record, "LastModifiedById": "005MAPSYNC"}
    assert MilestoneState.from_record(mine, {}, mapsync_user="005MAPSYNC").touched_on is None
