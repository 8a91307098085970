"""Who owns the seller's steps, against the local org: the Opportunity Team member in the
step's role, else the deal's owner, following both as they change, until a rep chooses."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from sync.jobs.reconcile import reconcile
from tests.sync.world import World


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> World:
    return World(emulator, tmp_path)


def _colleagues(world: World, n: int) -> list[str]:
    rows = world.query("SELECT Id FROM User WHERE Profile.Name = 'Standard User' "
                       f"AND Id != '{world.rep_id}' ORDER BY Username LIMIT {n}")
    return [r["Id"] for r in rows]


def _seller_owners(world: World, opp: str) -> dict[str, str | None]:
    rows = world.query("SELECT Key__c, Owner_Role__c, Owner_User__c FROM MAP_Milestone__c "
                       f"WHERE Plan__r.Opportunity__c = '{opp}' AND Owner_Side__c = 'Seller'")
    return {r["Key__c"]: r["Owner_User__c"] for r in rows}


def _roles(world: World, opp: str) -> dict[str, str]:
    rows = world.query("SELECT Key__c, Owner_Role__c FROM MAP_Milestone__c "
                       f"WHERE Plan__r.Opportunity__c = '{opp}' AND Owner_Side__c = 'Seller'")
    return {r["Key__c"]: r["Owner_Role__c"] for r in rows}


def _join_team(world: World, opp: str, user: str, role: str) -> str:
    return str(world.rep.OpportunityTeamMember.create(
        {"OpportunityId": opp, "UserId": user, "TeamMemberRole": role})["id"])


def _step_in_role(world: World, opp: str, role: str) -> str:
    return next(k for k, r in _roles(world, opp).items() if r == role)


def test_seller_milestone_owned_by_team_member_with_role(world: World) -> None:
    [engineer] = _colleagues(world, 1)
    opp = world.opportunity()
    _join_team(world, opp, engineer, "solutions engineer")  # roles compare ignoring case
    world.cycle()
    owners = _seller_owners(world, opp)
    technical = _step_in_role(world, opp, "Solutions Engineer")
    assert owners[technical] == engineer
    assert {u for k, u in owners.items() if k != technical} == {world.rep_id}  # the owner


def test_team_member_added_later_takes_the_seller_milestone_next_poll(world: World) -> None:
    [engineer] = _colleagues(world, 1)
    opp = world.opportunity()
    world.cycle()
    technical = _step_in_role(world, opp, "Solutions Engineer")
    assert _seller_owners(world, opp)[technical] == world.rep_id
    world.minutes_later(1)
    world.cycle()
    _join_team(world, opp, engineer, "Solutions Engineer")
    world.minutes_later(1)
    report = world.cycle()
    assert report.touched == 1
    assert _seller_owners(world, opp)[technical] == engineer


def test_seller_milestones_follow_a_change_of_opportunity_owner(world: World) -> None:
    [successor] = _colleagues(world, 1)
    opp = world.opportunity()
    world.cycle()
    world.edit("Opportunity", opp, OwnerId=successor)
    world.cycle()
    assert set(_seller_owners(world, opp).values()) == {successor}


def test_seller_owner_a_rep_chose_stays_when_the_deal_changes_hands(world: World) -> None:
    chosen, successor = _colleagues(world, 2)
    opp = world.opportunity()
    world.cycle()
    [milestone] = world.query("SELECT Id, Key__c FROM MAP_Milestone__c "
                              f"WHERE Plan__r.Opportunity__c = '{opp}' "
                              "AND Owner_Side__c = 'Seller' ORDER BY Sequence__c LIMIT 1")
    world.edit("MAP_Milestone__c", milestone["Id"], Owner_User__c=chosen)
    world.cycle()
    world.edit("Opportunity", opp, OwnerId=successor)
    world.cycle()
    owners = _seller_owners(world, opp)
    assert owners.pop(milestone["Key__c"]) == chosen
    assert set(owners.values()) == {successor}


def test_seller_owner_a_rep_chose_stays_with_a_new_store(world: World,
                                                         tmp_path: Path) -> None:
    chosen, successor = _colleagues(world, 2)
    opp = world.opportunity()
    world.cycle()
    [milestone] = world.query("SELECT Id, Key__c FROM MAP_Milestone__c "
                              f"WHERE Plan__r.Opportunity__c = '{opp}' "
                              "AND Owner_Side__c = 'Seller' ORDER BY Sequence__c LIMIT 1")
    world.edit("MAP_Milestone__c", milestone["Id"], Owner_User__c=chosen)
    fresh = World(world.org, tmp_path / "new")  # the store is lost: history still decides
    world.edit("Opportunity", opp, OwnerId=successor)
    fresh.cycle()
    assert _seller_owners(fresh, opp)[milestone["Key__c"]] == chosen


def test_member_removed_from_the_team_hands_the_step_back_to_the_owner_by_reconcile(
        world: World) -> None:
    # Salesforce keeps no deleted team member (no recycle bin): Get Deleted names its Id but
    # nothing names its deal, so the nightly reconcile (or the deal's next change) hands the
    # step back.
    [engineer] = _colleagues(world, 1)
    opp = world.opportunity()
    member = _join_team(world, opp, engineer, "Solutions Engineer")
    world.cycle()
    technical = _step_in_role(world, opp, "Solutions Engineer")
    assert _seller_owners(world, opp)[technical] == engineer
    world.delete("OpportunityTeamMember", member)
    reconcile(world.sync)
    assert _seller_owners(world, opp)[technical] == world.rep_id
