"""The sync cycle end to end, against the local Salesforce org over HTTPS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from mappings.loader import default_mapping_path, load_mapping
from sync.store.records import RunOutcome
from tests.sync.world import TODAY, World


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> World:
    return World(emulator, tmp_path)


def test_new_qualifying_opportunity_gets_its_plan(world: World) -> None:
    opp = world.opportunity(stage="Needs Analysis")
    early = world.opportunity(stage="Prospecting", name="Too early")
    report = world.cycle()
    assert report.plans_created == 1
    plan = world.plan(opp)
    assert plan is not None
    assert plan["Status__c"] == "Active"
    assert len(world.milestones(opp)) == 8  # mid_market template
    assert world.plan(early) is None
    rollup = world.opportunity_record(opp)
    assert rollup["MAP_Health__c"] == plan["Health__c"]
    assert rollup["MAP_Percent_Complete__c"] == plan["Percent_Complete__c"]


def test_second_cycle_with_nothing_changed_writes_nothing_and_costs_one_call(world: World):
    world.opportunity()
    world.cycle()
    calls = world.org.api_calls
    report = world.cycle()
    assert report.touched == 0
    assert report.milestones_written == report.rollups_written == 0
    assert world.org.api_calls - calls == 1
    assert report.api_calls == 1


def test_stage_advance_completes_milestones(world: World) -> None:
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    assert all(m["Status__c"] != "Done" for m in world.milestones(opp).values())
    world.edit("Opportunity", opp, StageName="Proposal/Price Quote")
    world.cycle()
    done = {k for k, m in world.milestones(opp).items() if m["Status__c"] == "Done"}
    assert done, "passing stages completes their milestones"
    for key in done:
        assert world.milestones(opp)[key]["Completed_Date__c"] == TODAY.isoformat()
    assert world.plan(opp)["Percent_Complete__c"] > 0


def test_stage_regression_reopens_only_stage_completed_milestones(world: World) -> None:
    opp = world.opportunity(stage="Proposal/Price Quote")
    world.cycle()
    done = [k for k, m in world.milestones(opp).items() if m["Status__c"] == "Done"]
    assert len(done) >= 2
    rep_done = next(k for k, m in world.milestones(opp).items() if m["Status__c"] != "Done")
    world.edit("MAP_Milestone__c", world.milestones(opp)[rep_done]["Id"], Status__c="Done",
               Completed_Date__c=TODAY.isoformat())
    world.cycle()
    world.edit("Opportunity", opp, StageName="Qualification")
    world.cycle()
    after = world.milestones(opp)
    assert after[rep_done]["Status__c"] == "Done"  # the rep's completion stays
    assert all(after[k]["Status__c"] != "Done" for k in done)  # the stage's reopen


def test_rep_edits_are_never_overwritten_and_move_the_rollups(world: World) -> None:
    opp = world.opportunity(close_in_days=120)
    world.cycle()
    ms = world.milestones(opp)
    first, later = sorted(ms.values(), key=lambda m: m["Due_Date__c"])[:2]
    moved = dt.date.fromisoformat(later["Due_Date__c"]) + dt.timedelta(days=28)
    world.edit("MAP_Milestone__c", later["Id"], Due_Date__c=moved.isoformat(),
               Notes__c="Legal is on holiday")
    world.edit("MAP_Milestone__c", first["Id"], Status__c="Blocked")
    before = world.plan(opp)
    world.cycle()
    for _ in range(2):  # and again: nothing goes back
        world.cycle()
    ms = world.milestones(opp)
    assert ms[later["Key__c"]]["Due_Date__c"] == moved.isoformat()
    assert ms[later["Key__c"]]["Notes__c"] == "Legal is on holiday"
    assert ms[later["Key__c"]]["Days_Slipped__c"] > 0
    assert ms[first["Key__c"]]["Status__c"] == "Blocked"
    after = world.plan(opp)
    assert after["Projected_Close_Date__c"] > before["Projected_Close_Date__c"]
    assert after["Days_Slipped__c"] > 0
    rollup = world.opportunity_record(opp)
    assert rollup["MAP_Projected_Close_Date__c"] == after["Projected_Close_Date__c"]
    assert rollup["MAP_Days_Slipped__c"] == after["Days_Slipped__c"]


def test_moved_close_date_moves_only_untouched_due_dates(world: World) -> None:
    opp = world.opportunity(close_in_days=120)
    world.cycle()
    ms = world.milestones(opp)
    pinned = sorted(ms.values(), key=lambda m: m["Due_Date__c"])[0]
    world.edit("MAP_Milestone__c", pinned["Id"], Due_Date__c=pinned["Due_Date__c"][:8] + "28")
    world.cycle()
    world.edit("Opportunity", opp,
               CloseDate=(TODAY + dt.timedelta(days=160)).isoformat())
    world.cycle()
    after = world.milestones(opp)
    assert after[pinned["Key__c"]]["Due_Date__c"] == pinned["Due_Date__c"][:8] + "28"
    moved = [k for k, m in after.items() if k != pinned["Key__c"]
             and m["Due_Date__c"] != ms[k]["Due_Date__c"]]
    assert moved, "untouched due dates follow the close date"
    assert all(after[k]["Baseline_Due_Date__c"] == ms[k]["Baseline_Due_Date__c"] for k in after)


def test_closed_lost_cancels_the_plan(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    world.edit("Opportunity", opp, StageName="Closed Lost")
    world.cycle()
    assert world.plan(opp)["Status__c"] == "Cancelled"


def test_closed_won_keeps_post_close_milestones_live(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    world.edit("Opportunity", opp, StageName="Closed Won")
    world.cycle()
    ms = world.milestones(opp)
    open_after = [k for k, m in ms.items() if m["Status__c"] != "Done"]
    assert open_after, "go-live and ROI stay open after the signature"
    assert any(m["Status__c"] == "Done" for m in ms.values())
    assert world.plan(opp)["Status__c"] == "Active"


def test_deleted_opportunity_removes_its_plan(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    world.delete("Opportunity", opp)
    report = world.cycle()
    assert report.plans_deleted == 1
    assert world.plan(opp) is None
    assert world.counts() == (0, 0)


def test_plan_deleted_by_a_rep_is_not_recreated(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    world.delete("Mutual_Action_Plan__c", world.plan(opp)["Id"])
    world.edit("Opportunity", opp, StageName="Value Proposition")
    world.cycle()
    world.cycle()
    assert world.plan(opp) is None
    with world.store.transaction() as tx:
        assert tx.is_tombstoned(world.org_id, opp)


def test_validation_failure_on_one_record_dead_letters_it_while_others_land(
        emulator: Emulator, tmp_path: Path) -> None:
    mapping = load_mapping(default_mapping_path())
    enterprise = mapping.template("enterprise")
    assert enterprise is not None
    too_long = enterprise.model_copy(update={"summary": "x" * 40_000})  # Summary__c holds 32,768
    mapping = mapping.model_copy(update={"templates": [
        too_long if t.name == "enterprise" else t for t in mapping.templates]})
    world = World(emulator, tmp_path, mapping=mapping)
    good = world.opportunity(name="Mid-market deal", amount=50_000)
    bad = world.opportunity(name="Enterprise deal", amount=250_000)
    report = world.cycle()
    assert report.outcome == RunOutcome.PARTIAL.value
    assert report.dead_letters == 1
    with world.store.transaction() as tx:
        letters = tx.dead_letters(world.org_id)
    assert [(x.object_name, x.external_id, x.error_code) for x in letters] == [
        ("Mutual_Action_Plan__c", bad, "STRING_TOO_LONG")]
    assert "Summary" in letters[0].error_message
    assert len(world.milestones(good)) == 8
    assert world.plan(bad) is None
    again = world.cycle()  # not retried every cycle: a person must fix it
    assert again.touched == 0


def test_milestone_deleted_by_a_rep_is_not_recreated(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    ms = world.milestones(opp)
    victim = sorted(ms)[0]
    world.delete("MAP_Milestone__c", ms[victim]["Id"])
    world.edit("Opportunity", opp, StageName="Value Proposition")
    world.cycle()
    after = world.milestones(opp)
    assert victim not in after
    assert len(after) == len(ms) - 1


def test_run_record_lands_with_counts_and_api_calls(world: World) -> None:
    world.opportunity()
    report = world.cycle()
    with world.store.transaction() as tx:
        run = tx.latest_runs(world.org_id, 1)[0]
    assert run.id == report.run_id
    assert run.outcome == RunOutcome.SUCCEEDED
    assert run.finished_at is not None
    assert run.api_calls == report.api_calls > 0
    assert run.counts["plans_created"] == 1
    assert run.counts["milestones_written"] == 8


def test_a_large_change_is_planned_and_committed_in_chunks(emulator: Emulator,
                                                           tmp_path: Path) -> None:
    world = World(emulator, tmp_path, chunk_size=2)
    opps = [world.opportunity(name=f"Deal {i}") for i in range(5)]
    report = world.cycle()
    assert report.plans_created == 5
    assert report.milestones_written == 40
    assert all(world.plan(o) is not None for o in opps)
    with world.store.transaction() as tx:
        runs = tx.latest_runs(world.org_id, 5)
        assert len(runs) == 1
        assert runs[0].counts["plans_created"] == 5
        assert tx.watermark(world.org_id, "Opportunity") is not None
    assert world.cycle().api_calls == 1


def test_buyer_side_owners_are_named_from_contact_roles(world: World) -> None:
    def with_buyer(name: str) -> tuple[str, str]:
        opp = world.opportunity(name=name, amount=50_000)
        contact = world.rep.Contact.create({"LastName": name, "AccountId": world.account_id})
        world.rep.OpportunityContactRole.create(
            {"OpportunityId": opp, "ContactId": contact["id"], "Role": "Economic Buyer"})
        return opp, contact["id"]

    first, first_contact = with_buyer("First read")  # named by the org-wide role read
    report = world.cycle()
    later, later_contact = with_buyer("Later read")  # named by the per-Opportunity read
    world.cycle()

    def owners(opp: str) -> dict[str, str | None]:
        rows = world.query("SELECT Owner_Role__c, Owner_Contact__c FROM MAP_Milestone__c "
                           f"WHERE Plan__r.Opportunity__c = '{opp}'")
        return {r["Owner_Role__c"]: r["Owner_Contact__c"] for r in rows}

    assert owners(first)["Economic Buyer"] == first_contact
    assert owners(later)["Economic Buyer"] == later_contact
    assert report.owner_unknown > 0  # the other buyer roles have no contact: left to the rep


def test_milestone_name_with_a_trailing_space_is_written_once(
        emulator: Emulator, tmp_path: Path) -> None:
    mapping = load_mapping(default_mapping_path())
    mid = mapping.template("mid_market")
    assert mid is not None
    first = mid.milestones[0].model_copy(update={"name": mid.milestones[0].name + " "})
    padded = mid.model_copy(update={"milestones": [first, *mid.milestones[1:]]})
    mapping = mapping.model_copy(update={"templates": [
        padded if t.name == "mid_market" else t for t in mapping.templates]})
    world = World(emulator, tmp_path, mapping=mapping)
    opp = world.opportunity()
    world.cycle()
    names = {m["Name"] for m in world.query(
        f"SELECT Name FROM MAP_Milestone__c WHERE Plan__r.Opportunity__c = '{opp}'")}
    assert mid.milestones[0].name in names  # Salesforce trimmed it
    world.edit("Opportunity", opp, Amount=55_000)  # read again, same template
    again = world.cycle()
    assert again.touched == 1  # the plan was looked at again ...
    assert again.milestones_written == 0  # ... and its trimmed name left alone
