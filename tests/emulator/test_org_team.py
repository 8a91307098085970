"""OpportunityTeamMember as Salesforce saves it: a user once per deal (a second create updates
the first), the deal and user fixed, a restricted access level, members going with their deal,
and a member deleted by itself kept out of the recycle bin but named by Get Deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator


@pytest.fixture
def sf(emulator: Emulator) -> Any:
    return salesforce_client(emulator)


def _deal(sf: Any) -> str:
    account = sf.Account.create({"Name": "Initech"})["id"]
    return str(sf.Opportunity.create({"Name": "Initech", "StageName": "Prospecting",
                                      "CloseDate": "2031-01-31", "AccountId": account})["id"])


def _users(sf: Any, n: int) -> list[str]:
    rows = sf.query("SELECT Id FROM User WHERE Profile.Name = 'Standard User' "
                    f"ORDER BY Username LIMIT {n}")["records"]
    return [r["Id"] for r in rows]


def test_a_user_is_on_a_deals_team_once_a_second_create_updates_the_first(sf: Any) -> None:
    deal = _deal(sf)
    [user] = _users(sf, 1)
    first = sf.OpportunityTeamMember.create({"OpportunityId": deal, "UserId": user,
                                             "TeamMemberRole": "Sales Rep"})["id"]
    again = sf.OpportunityTeamMember.create({"OpportunityId": deal, "UserId": user,
                                             "TeamMemberRole": "Solutions Engineer"})["id"]
    assert again == first
    rows = sf.query("SELECT TeamMemberRole, OpportunityAccessLevel FROM OpportunityTeamMember "
                    f"WHERE OpportunityId = '{deal}'")["records"]
    assert [(r["TeamMemberRole"], r["OpportunityAccessLevel"]) for r in rows] == [
        ("Solutions Engineer", "Read")]


def test_deal_and_user_of_a_member_cannot_change_and_access_is_a_restricted_picklist(
        sf: Any) -> None:
    deal, other = _deal(sf), _deal(sf)
    user, = _users(sf, 1)
    member = sf.OpportunityTeamMember.create({"OpportunityId": deal, "UserId": user})["id"]
    with pytest.raises(SalesforceMalformedRequest) as moved:
        sf.OpportunityTeamMember.update(member, {"OpportunityId": other})
    assert moved.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.OpportunityTeamMember.update(member, {"OpportunityAccessLevel": "Owner"})
    assert bad.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.OpportunityTeamMember.create({"OpportunityId": deal})
    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_member_deleted_by_itself_skips_the_recycle_bin_but_get_deleted_names_it(
        sf: Any) -> None:
    deal = _deal(sf)
    user, = _users(sf, 1)
    start = datetime.now(UTC) - timedelta(minutes=2)
    member = sf.OpportunityTeamMember.create({"OpportunityId": deal, "UserId": user})["id"]
    sf.OpportunityTeamMember.delete(member)
    assert sf.query_all(f"SELECT Id FROM OpportunityTeamMember WHERE Id = '{member}'")[
        "records"] == []
    end = datetime.now(UTC) + timedelta(minutes=2)
    deleted = sf.OpportunityTeamMember.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [member]


def test_members_go_with_their_deal(sf: Any) -> None:
    deal = _deal(sf)
    user, = _users(sf, 1)
    start = datetime.now(UTC) - timedelta(minutes=2)
    member = sf.OpportunityTeamMember.create({"OpportunityId": deal, "UserId": user})["id"]
    sf.Opportunity.delete(deal)
    assert sf.query(f"SELECT Id FROM OpportunityTeamMember WHERE Id = '{member}'")[
        "records"] == []
    end = datetime.now(UTC) + timedelta(minutes=2)
    deleted = sf.OpportunityTeamMember.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [member]
