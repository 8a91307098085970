"""The numbers of a MAP in a real cycle: on-time rates, a plan nobody moves, the compelling
event; written on the plan and rolled up onto the Opportunity for forecasting."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from tests.sync.world import TODAY, World

NUMBERS = ("Buyer_On_Time_Rate__c, Seller_On_Time_Rate__c, Last_Progress_Date__c, "
           "Days_Since_Progress__c, Health__c, Slip_Cause__c, Projected_Close_Date__c")


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> World:
    return World(emulator, tmp_path)


def numbers(world: World, opp: str) -> dict[str, object]:
    [row] = world.query(f"SELECT {NUMBERS} FROM Mutual_Action_Plan__c "
                        f"WHERE Opportunity__c = '{opp}'")
    return row


def days_later(world: World, days: int) -> dt.date:
    """Move Salesforce's clock and mapsync's together by ``days``."""
    shift = dt.timedelta(days=days)
    world.org.org.set_clock(lambda: dt.datetime.now(dt.UTC) + shift)
    world.sync = dataclasses.replace(world.sync, clock=lambda: dt.datetime.now(dt.UTC) + shift)
    return TODAY + shift


def test_on_time_rates_and_progress_land_on_the_plan_and_the_opportunity(world: World):
    opp = world.opportunity(close_in_days=120)
    world.cycle()
    plan = numbers(world, opp)
    assert (plan["Last_Progress_Date__c"], plan["Days_Since_Progress__c"]) == \
        (TODAY.isoformat(), 0)
    assert plan["Buyer_On_Time_Rate__c"] is None  # nothing of the buyer's was due yet
    buyer = next(m for m in world.milestones(opp).values()
                 if m["Owner_Side__c"] == "Buyer" and m["Status__c"] != "Done")
    world.edit("MAP_Milestone__c", buyer["Id"], Status__c="Done",
               Completed_Date__c=TODAY.isoformat())
    world.cycle()
    plan = numbers(world, opp)
    assert plan["Buyer_On_Time_Rate__c"] == 100.0
    rollup = world.opportunity_record(opp)
    assert rollup["MAP_Buyer_On_Time_Rate__c"] == 100.0
    assert rollup["MAP_Seller_On_Time_Rate__c"] == plan["Seller_On_Time_Rate__c"]
    assert rollup["MAP_Days_Since_Progress__c"] == 0


def test_a_plan_nobody_moves_is_at_risk_until_a_rep_touches_a_milestone(world: World):
    opp = world.opportunity(close_in_days=200)
    world.cycle()
    later = days_later(world, 35)
    world.edit("Opportunity", opp, NextStep="Call the champion")  # not the plan's progress
    world.cycle()
    plan = numbers(world, opp)
    days = plan["Days_Since_Progress__c"]
    assert isinstance(days, int | float)
    assert days >= 15
    assert plan["Health__c"] != "On Track"
    assert f"no progress for {int(days)} days" in str(plan["Slip_Cause__c"])
    assert world.opportunity_record(opp)["MAP_Days_Since_Progress__c"] == days
    milestone = next(iter(world.milestones(opp).values()))
    world.edit("MAP_Milestone__c", milestone["Id"], Notes__c="Champion back from leave")
    world.cycle()
    plan = numbers(world, opp)
    assert (plan["Last_Progress_Date__c"], plan["Days_Since_Progress__c"]) == \
        (later.isoformat(), 0)
    assert "no progress" not in str(plan["Slip_Cause__c"])


def test_a_compelling_event_before_the_projected_close_shows_in_the_slip_cause(world: World):
    opp = world.opportunity(close_in_days=120)
    world.cycle()
    [plan] = world.query(f"SELECT Id, Projected_Close_Date__c FROM Mutual_Action_Plan__c "
                         f"WHERE Opportunity__c = '{opp}'")
    event = dt.date.fromisoformat(plan["Projected_Close_Date__c"]) - dt.timedelta(days=10)
    world.edit("Mutual_Action_Plan__c", plan["Id"], Compelling_Event_Date__c=event.isoformat(),
               Compelling_Event__c="Current contract ends")
    world.edit("Opportunity", opp, NextStep="Send the order form")
    world.cycle()
    after = numbers(world, opp)
    assert f"passes the compelling event (Current contract ends) on {event.isoformat()}" in \
        str(after["Slip_Cause__c"])
