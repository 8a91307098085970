"""Reps and managers hold the permission sets shipped for them, and the local org enforces them.

``Mapsync_User`` gives a rep what the ownership table of docs/architecture.md gives them: the
rep-owned and rep-pinnable fields are editable, the fields mapsync works out are read-only, so
Salesforce itself refuses a rep's edit of them (``INVALID_FIELD_FOR_INSERT_UPDATE``) instead
of mapsync silently putting its value back. ``Mapsync_Manager`` reads every plan and edits none.
The field sets come from ``sync.planner.model``, so a field moved between owners there and not
in the permission set fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.emulator.server import Emulator
from sync.planner.model import (
    REP_OWNED_MILESTONE_FIELDS,
    REP_OWNED_PLAN_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
)
from tests.emulator.test_org_permissions import As, owned_by, reps

# a value of the right type for each field a test writes
VALUES: dict[str, Any] = {
    "Summary__c": "Pilot first", "Success_Criteria__c": "Live in Q3",
    "Go_Live_Date__c": "2031-03-03", "Compelling_Event_Date__c": "2031-01-15",
    "Compelling_Event__c": "Contract renewal", "Notes__c": "Agreed on the call",
    "Status__c": "In Progress", "Completed_Date__c": "2031-01-02", "Due_Date__c": "2031-01-09",
    "Template__c": "other", "Mapping_Version__c": "other@000000000000",
    "Health__c": "Off Track", "Percent_Complete__c": 10,
    "Target_Close_Date__c": "2031-02-01", "Projected_Close_Date__c": "2031-02-01",
    "Days_Slipped__c": 3, "Slip_Cause__c": "x", "Next_Milestone__c": "x",
    "Next_Due_Date__c": "2031-01-01", "Buyer_On_Time_Rate__c": 50,
    "Seller_On_Time_Rate__c": 50, "Last_Progress_Date__c": "2031-01-01",
    "Days_Since_Progress__c": 2, "Name": "Renamed", "Key__c": "other", "Sequence__c": 9,
    "Stage__c": "Closed Won", "Owner_Side__c": "Buyer", "Owner_Role__c": "Legal",
    "Baseline_Due_Date__c": "2031-01-01", "Depends_On__c": "x", "Why_It_Matters__c": "x",
}


@pytest.fixture
def plan(strict_org: Emulator) -> dict[str, str]:
    """A plan and one milestone on a rep's Opportunity, written by the integration user."""
    rep = reps(strict_org)[0]
    opp = owned_by(strict_org, rep)[0]
    service = As(strict_org)
    r = service.call("POST", "sobjects/Mutual_Action_Plan__c", json={
        "Name": "Plan", "Opportunity__c": opp, "External_Id__c": opp, "Status__c": "Active"})
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    r = service.call("POST", "sobjects/MAP_Milestone__c", json={
        "Name": "Security review", "Plan__c": plan_id, "External_Id__c": f"{opp}:security",
        "Owner_Side__c": "Buyer", "Status__c": "Not Started"})
    assert r.status_code == 201, r.text
    return {"rep": rep, "plan": plan_id, "milestone": r.json()["id"]}


def as_user_with(org: Emulator, user_id: str, permission_set: str) -> As:
    org.org.access.assign(user_id, permission_set)
    return As(org, user_id)


def test_a_rep_edits_what_reps_own_and_may_pin(strict_org, plan):
    rep = as_user_with(strict_org, plan["rep"], "Mapsync_User")
    plan_edit = {f: VALUES[f] for f in REP_OWNED_PLAN_FIELDS}
    r = rep.call("PATCH", f"sobjects/Mutual_Action_Plan__c/{plan['plan']}", json=plan_edit)
    assert r.status_code == 204, r.text
    milestone_edit = {f: VALUES[f] for f in
                      (REP_OWNED_MILESTONE_FIELDS | REP_PINNABLE_MILESTONE_FIELDS)
                      - {"Owner_Contact__c", "Owner_User__c"}}  # lookups: set elsewhere
    r = rep.call("PATCH", f"sobjects/MAP_Milestone__c/{plan['milestone']}", json=milestone_edit)
    assert r.status_code == 204, r.text
    [row] = rep.records(f"SELECT Compelling_Event__c, Summary__c FROM Mutual_Action_Plan__c "
                        f"WHERE Id = '{plan['plan']}'")
    assert (row["Compelling_Event__c"], row["Summary__c"]) == ("Contract renewal", "Pilot first")


@pytest.mark.parametrize(("sobject", "key", "fields"), [
    ("Mutual_Action_Plan__c", "plan", SERVICE_OWNED_PLAN_FIELDS - {"Opportunity__c"}),
    ("MAP_Milestone__c", "milestone", SERVICE_OWNED_MILESTONE_FIELDS - {"Name"}),
], ids=["plan", "milestone"])
def test_a_rep_is_refused_each_field_mapsync_works_out(strict_org, plan, sobject, key, fields):
    rep = as_user_with(strict_org, plan["rep"], "Mapsync_User")
    for name in sorted(fields):
        r = rep.call("PATCH", f"sobjects/{sobject}/{plan[key]}", json={name: VALUES[name]})
        assert r.status_code == 400, (name, r.text)
        [error] = r.json()
        assert (error["errorCode"], error["fields"]) == \
            ("INVALID_FIELD_FOR_INSERT_UPDATE", [name])


def test_a_rep_sees_service_owned_fields_as_read_only_in_describe(strict_org, plan):
    rep = as_user_with(strict_org, plan["rep"], "Mapsync_User")
    fields = {f["name"]: f for f in rep.call(
        "GET", "sobjects/Mutual_Action_Plan__c/describe").json()["fields"]}
    assert fields["Health__c"]["updateable"] is False
    assert fields["Days_Since_Progress__c"]["updateable"] is False
    assert fields["Compelling_Event_Date__c"]["updateable"] is True


def test_a_manager_reads_every_plan_and_changes_none(strict_org, plan):
    manager_id = reps(strict_org)[-1]
    assert manager_id != plan["rep"]
    manager = as_user_with(strict_org, manager_id, "Mapsync_Manager")
    rows = manager.records("SELECT Id, Health__c, Buyer_On_Time_Rate__c "
                           "FROM Mutual_Action_Plan__c")
    assert [r["Id"] for r in rows] == [plan["plan"]]
    r = manager.call("PATCH", f"sobjects/Mutual_Action_Plan__c/{plan['plan']}",
                     json={"Summary__c": "mine now"})
    assert r.status_code >= 400
