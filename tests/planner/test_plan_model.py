"""The plan's Salesforce shape: field names, ownership sets, and the written state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from sync.planner.model import (
    OPPORTUNITY_ROLLUP_FIELDS,
    REP_OWNED_MILESTONE_FIELDS,
    REP_OWNED_PLAN_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
    MilestoneState,
    Opportunity,
    PlanState,
)
from sync.planner.written import state_after_writing
from tests.planner.support import opportunity, rep_edits, run, written

OBJECTS = (
    Path(__file__).resolve().parents[2]
    / "connectors/salesforce/metadata/force-app/main/default/objects"
)


def _deployed_fields(sobject: str) -> set[str]:
    return {p.name.split(".")[0] for p in (OBJECTS / sobject / "fields").glob("*.field-meta.xml")}


def test_milestone_fields_are_exactly_the_owned_ones_and_ownership_never_overlaps() -> None:
    owned = [SERVICE_OWNED_MILESTONE_FIELDS, REP_OWNED_MILESTONE_FIELDS,
             REP_PINNABLE_MILESTONE_FIELDS]
    assert sum(len(s) for s in owned) == len(set().union(*owned))
    fields = run(opportunity()).milestones[0].fields()
    assert set(fields) == set().union(*owned)


def test_plan_fields_are_exactly_the_owned_ones_and_ownership_never_overlaps() -> None:
    assert not SERVICE_OWNED_PLAN_FIELDS & REP_OWNED_PLAN_FIELDS
    assert set(run(opportunity()).fields()) == SERVICE_OWNED_PLAN_FIELDS | REP_OWNED_PLAN_FIELDS
    assert set(run(opportunity()).opportunity_rollup()) == OPPORTUNITY_ROLLUP_FIELDS


@pytest.mark.skipif(not OBJECTS.exists(), reason="sfdx metadata not present")
def test_every_field_the_planner_writes_is_deployed() -> None:
    desired = run(opportunity())
    assert set(desired.fields()) <= _deployed_fields("Mutual_Action_Plan__c")
    assert set(desired.milestones[0].fields()) <= _deployed_fields("MAP_Milestone__c") | {"Name"}
    assert set(desired.opportunity_rollup()) <= _deployed_fields("Opportunity")


def test_milestone_fields_carry_the_plan_values() -> None:
    m = run(opportunity(contact_roles=(("Security", "003S"),))).milestone("security")
    assert m.fields() == {
        "Name": "Security", "Key__c": "security", "Sequence__c": 2,
        "Stage__c": "Value Proposition", "Owner_Side__c": "Buyer", "Owner_Role__c": "Security",
        "Owner_Contact__c": "003S", "Owner_User__c": None,
        "Baseline_Due_Date__c": dt.date(2026, 3, 30),
        "Due_Date__c": dt.date(2026, 3, 30), "Completed_Date__c": None,
        "Status__c": "Not Started", "Days_Slipped__c": 0, "Depends_On__c": "Discovery",
        "Why_It_Matters__c": "security matters", "Notes__c": None,
    }


def test_written_state_keeps_a_pin_a_pin() -> None:
    state = rep_edits(written(opportunity()), "legal", due_date=dt.date(2026, 3, 2))
    again = state_after_writing(run(opportunity(), state), state)
    legal = again.milestones["legal"]
    assert legal.due_date == dt.date(2026, 3, 2)
    assert legal.written["Due_Date__c"] == dt.date(2026, 3, 30)  # what mapsync last wrote
    assert legal.pinned_fields() == {"Due_Date__c"}


def test_written_state_does_not_claim_rep_owned_fields_after_creation() -> None:
    state = rep_edits(written(opportunity()), "legal", notes="call Tuesday")
    again = state_after_writing(run(opportunity(), state), state)
    assert again.milestones["legal"].notes == "call Tuesday"
    assert again.milestones["legal"].written["Notes__c"] is None


def test_opportunity_from_a_salesforce_record() -> None:
    opp = Opportunity.from_record({
        "attributes": {"type": "Opportunity"}, "Id": "006000000000001AAA", "Name": "Acme",
        "StageName": "Qualification", "CloseDate": "2026-03-31", "Amount": 120000.0,
        "Type": "New Business", "IsDeleted": False, "RecordType": {"Name": "Enterprise"},
        "OpportunityContactRoles": {"records": [
            {"Role": "Legal", "ContactId": "003L"}, {"Role": None, "ContactId": "003X"},
        ]},
    })
    assert opp.close_date == dt.date(2026, 3, 31)
    assert opp.amount == Decimal("120000.0")
    assert opp.contact_roles == (("Legal", "003L"), ("", "003X"))
    assert opp.rule_fields()["RecordType"] == {"Name": "Enterprise"}


def test_plan_state_from_salesforce_records_and_shadow_values() -> None:
    state = PlanState.from_records(
        {"Template__c": "small", "Status__c": "Active", "Target_Close_Date__c": "2026-03-31"},
        {"Status__c": "Active"},
        [({"Key__c": "legal", "Status__c": "Done", "Due_Date__c": "2026-03-27"},
          {"Status__c": "Not Started", "Due_Date__c": "2026-03-27"}, {})],
    )
    assert state.target_close_date == dt.date(2026, 3, 31)
    legal = state.milestones["legal"]
    assert isinstance(legal, MilestoneState)
    assert legal.due_date == dt.date(2026, 3, 27)
    assert legal.pinned_fields() == {"Status__c"}


def test_milestone_record_without_key_is_known_by_its_external_id() -> None:
    state = PlanState.from_records(
        {"Template__c": "small"}, {},
        [({"External_Id__c": "006000000000001AAA:legal", "Status__c": "Done"}, {}, {}),
         ({"Status__c": "Done"}, {}, {})],  # made by hand in Salesforce: not the plan's
    )
    assert list(state.milestones) == ["legal"]


def test_a_rep_change_in_salesforce_history_pins_the_field_without_any_shadow() -> None:
    state = PlanState.from_records(
        {"Template__c": "small"}, {},
        [({"Key__c": "legal", "Status__c": "Done", "Due_Date__c": "2026-03-27"}, {},
          {"Status__c": "Blocked", "Due_Date__c": "2026-04-10"})],
    )
    legal = state.milestones["legal"]
    assert legal.pinned_fields() == {"Status__c", "Due_Date__c"}
    assert legal.status == "Blocked"  # the rep's value, though a later write overwrote it
    assert legal.due_date == dt.date(2026, 4, 10)
