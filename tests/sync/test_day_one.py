"""Day one against the local org: plans reps and managers can trust from the first sync."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from tests.sync.world import TODAY, World


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> World:
    return World(emulator, tmp_path)


def _plan_row(world: World, opp: str) -> dict:
    rows = world.query("SELECT Template__c, Status__c, Health__c, Percent_Complete__c, "
                       "Next_Milestone__c, Projected_Close_Date__c, Target_Close_Date__c, "
                       "Days_Slipped__c, Slip_Cause__c FROM Mutual_Action_Plan__c "
                       f"WHERE Opportunity__c = '{opp}'")
    return rows[0]


def test_first_sync_marks_early_milestones_done_without_slip(world: World) -> None:
    # late in its cycle: discovery and success criteria were due before mapsync saw the deal
    opp = world.opportunity(stage="Proposal/Price Quote", close_in_days=25)
    world.cycle()
    ms = world.milestones(opp)
    done = {k for k, m in ms.items() if m["Status__c"] == "Done"}
    assert done == {"discovery", "success_criteria", "solution_validation"}
    assert dt.date.fromisoformat(ms["discovery"]["Due_Date__c"]) < TODAY
    for key in done:
        assert ms[key]["Completed_Date__c"] is None  # not "today": done before tracking
        assert ms[key]["Days_Slipped__c"] == 0
    plan = _plan_row(world, opp)
    assert plan["Health__c"] == "On Track"
    assert plan["Projected_Close_Date__c"] == plan["Target_Close_Date__c"]
    assert plan["Slip_Cause__c"] is None
    world.edit("Opportunity", opp, Amount=55_000)  # looked at again: still undated, on track
    world.cycle()
    assert all(world.milestones(opp)[k]["Completed_Date__c"] is None for k in done)
    assert _plan_row(world, opp)["Health__c"] == "On Track"


def test_first_sync_of_a_won_deal_projects_its_close_date(world: World) -> None:
    opp = world.opportunity(stage="Closed Won", close_in_days=-40)
    world.cycle()
    plan = _plan_row(world, opp)
    close = (TODAY - dt.timedelta(days=40)).isoformat()
    assert plan["Health__c"] == "On Track"
    assert plan["Projected_Close_Date__c"] == close
    assert plan["Days_Slipped__c"] == 0
    assert world.opportunity_record(opp)["MAP_Projected_Close_Date__c"] == close


def test_deleted_milestone_is_not_next_nor_counted(world: World) -> None:
    opp = world.opportunity(stage="Needs Analysis")
    world.cycle()
    assert _plan_row(world, opp)["Next_Milestone__c"] == "Discovery completed"
    world.delete("MAP_Milestone__c", world.milestones(opp)["discovery"]["Id"])
    world.cycle()
    plan = _plan_row(world, opp)
    assert plan["Next_Milestone__c"] == "Success criteria agreed"
    assert plan["Percent_Complete__c"] == 0  # seven milestones left, none done
    world.edit("Opportunity", opp, StageName="Perception Analysis")  # success criteria done
    world.cycle()
    assert _plan_row(world, opp)["Percent_Complete__c"] == round(100 / 7, 2)
    assert "discovery" not in world.milestones(opp)


def test_won_deal_whose_remaining_milestones_were_deleted_is_completed(world: World) -> None:
    opp = world.opportunity(stage="Closed Won", close_in_days=-10)
    world.cycle()
    ms = world.milestones(opp)
    world.edit("MAP_Milestone__c", ms["kickoff"]["Id"], Status__c="Done",
               Completed_Date__c=TODAY.isoformat())
    world.delete("MAP_Milestone__c", ms["go_live"]["Id"])
    world.delete("MAP_Milestone__c", ms["value_review"]["Id"])
    world.cycle()
    plan = _plan_row(world, opp)
    assert plan["Status__c"] == "Completed"
    assert plan["Percent_Complete__c"] == 100
    assert plan["Next_Milestone__c"] is None


def test_rep_changed_template_is_put_back_without_other_milestones(world: World) -> None:
    opp = world.opportunity(amount=50_000)
    world.cycle()
    plan_id = world.plan(opp)["Id"]
    assert _plan_row(world, opp)["Template__c"] == "mid_market"
    world.edit("Mutual_Action_Plan__c", plan_id, Template__c="enterprise")
    world.cycle()
    assert _plan_row(world, opp)["Template__c"] == "mid_market"
    world.edit("Opportunity", opp, StageName="Value Proposition")
    world.cycle()
    assert len(world.milestones(opp)) == 8  # mid_market's alone
    assert _plan_row(world, opp)["Template__c"] == "mid_market"


def test_rep_renamed_milestone_and_its_why_stay(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    ms = world.milestones(opp)
    world.edit("MAP_Milestone__c", ms["discovery"]["Id"], Name="Discovery with the CFO",
               Why_It_Matters__c="The CFO signs off on the problem")
    world.cycle()
    world.edit("Opportunity", opp, Amount=60_000)
    world.cycle()
    row = world.query("SELECT Name, Why_It_Matters__c FROM MAP_Milestone__c "
                      f"WHERE Id = '{ms['discovery']['Id']}'")[0]
    assert (row["Name"], row["Why_It_Matters__c"]) == (
        "Discovery with the CFO", "The CFO signs off on the problem")
    assert _plan_row(world, opp)["Next_Milestone__c"] == "Discovery with the CFO"


def test_rep_added_milestone_counts_in_percent_and_next_milestone(world: World) -> None:
    opp = world.opportunity(stage="Needs Analysis")
    world.cycle()
    world.rep.MAP_Milestone__c.create({
        "Plan__c": world.plan(opp)["Id"], "Name": "Procurement portal registration",
        "Status__c": "Not Started", "Due_Date__c": (TODAY + dt.timedelta(days=2)).isoformat()})
    world.edit("Opportunity", opp, StageName="Value Proposition")
    world.cycle()
    plan = _plan_row(world, opp)
    assert plan["Next_Milestone__c"] == "Procurement portal registration"
    assert plan["Percent_Complete__c"] == round(100 / 9, 2)  # discovery, of eight plus one
    assert len(world.milestones(opp)) == 9  # the rep's milestone stays, nothing duplicated


def test_every_skipped_opportunity_carries_its_true_reason(world: World) -> None:
    world.opportunity(stage="Prospecting", name="Too early")
    world.opportunity(stage="Closed Lost", name="Lost before any plan")
    report = world.cycle()
    assert report.skipped == {"before plan stage": 1, "closed lost before a plan existed": 1}


def _owners(world: World, opp: str) -> dict[str, str | None]:
    rows = world.query("SELECT Key__c, Owner_Contact__c FROM MAP_Milestone__c "
                       f"WHERE Plan__r.Opportunity__c = '{opp}'")
    return {r["Key__c"]: r["Owner_Contact__c"] for r in rows}


def _contact_in_role(world: World, opp: str, role: str, name: str) -> str:
    contact = str(world.rep.Contact.create({"LastName": name,
                                            "AccountId": world.account_id})["id"])
    world.rep.OpportunityContactRole.create(
        {"OpportunityId": opp, "ContactId": contact, "Role": role})
    return contact


def test_contact_role_added_later_fills_empty_champion_milestone_next_poll(
        world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    assert _owners(world, opp)["discovery"] is None
    world.cycle()  # nothing pending: the next change is the role alone
    champion = _contact_in_role(world, opp, "Champion", "Chen")
    world.minutes_later(1)
    report = world.cycle()
    assert report.touched == 1
    owners = _owners(world, opp)
    assert owners["discovery"] == owners["success_criteria"] == champion
    assert owners["value_review"] == champion
    assert owners["kickoff"] is None  # seller side: no contact
    world.minutes_later(1)
    assert world.cycle().api_calls == 1  # and quiet again: one call


def test_contact_role_added_in_the_same_minute_waits_for_the_minute_to_close(
        world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    _contact_in_role(world, opp, "Champion", "Chen")
    # Get Updated answers for whole minutes: a role added this minute is asked for once the
    # minute is over, never lost.
    world.cycle()
    world.minutes_later(1)
    world.cycle()
    assert _owners(world, opp)["discovery"] is not None


def test_deleted_contact_role_touches_its_opportunity_next_poll(world: World) -> None:
    opp = world.opportunity()
    _contact_in_role(world, opp, "Champion", "Chen")
    world.cycle()
    [role] = world.query(f"SELECT Id FROM OpportunityContactRole WHERE OpportunityId = '{opp}'")
    world.minutes_later(1)
    world.cycle()
    world.delete("OpportunityContactRole", role["Id"])
    world.minutes_later(1)
    assert world.cycle().touched == 1


def test_owner_a_rep_chose_is_never_replaced_by_a_role(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    chosen = str(world.rep.Contact.create({"LastName": "Picked",
                                           "AccountId": world.account_id})["id"])
    world.edit("MAP_Milestone__c", world.milestones(opp)["discovery"]["Id"],
               Owner_Contact__c=chosen)
    world.cycle()
    champion = _contact_in_role(world, opp, "Champion", "Chen")
    world.minutes_later(1)
    world.cycle()
    owners = _owners(world, opp)
    assert owners["discovery"] == chosen
    assert owners["success_criteria"] == champion


def test_seller_side_milestones_name_the_opportunity_owner(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    rows = world.query("SELECT Key__c, Owner_Side__c, Owner_User__c FROM MAP_Milestone__c "
                       f"WHERE Plan__r.Opportunity__c = '{opp}'")
    sellers = {r["Key__c"]: r["Owner_User__c"] for r in rows if r["Owner_Side__c"] == "Seller"}
    assert sellers
    assert set(sellers.values()) == {world.rep_id}
    assert all(r["Owner_User__c"] is None for r in rows if r["Owner_Side__c"] != "Seller")
