"""A customer's validation rules and failing triggers refuse writes as Salesforce does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.formula import FormulaError, compile_formula
from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from connectors.emulator.standard_objects import opportunity
from tests.emulator.bulk_support import BulkClient
from tests.fixtures.automation import write_rule

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def sf(demo_org: Emulator) -> Any:
    return salesforce_client(demo_org)


def some_opportunities(sf: Any, n: int = 2) -> list[str]:
    rows = sf.query(f"SELECT Id FROM Opportunity WHERE IsClosed = false ORDER BY Id LIMIT {n}")
    return [r["Id"] for r in rows["records"]]


def test_validation_rule_refuses_the_save_with_field_custom_validation_exception(
        demo_org: Emulator, sf: Any, tmp_path: Path) -> None:
    demo_org.org.automation.load(write_rule(
        tmp_path, "Opportunity", "Health_Needs_Next_Step",
        "AND(ISPICKVAL(MAP_Health__c, 'Off Track'), ISBLANK(NextStep))",
        "An off-track deal needs a next step.", "NextStep"))
    opp = some_opportunities(sf, 1)[0]
    sf.Opportunity.update(opp, {"NextStep": None})
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Opportunity.update(opp, {"MAP_Health__c": "Off Track"})
    assert refused.value.content == [{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                      "message": "An off-track deal needs a next step.",
                                      "fields": ["NextStep"]}]
    sf.Opportunity.update(opp, {"MAP_Health__c": "Off Track", "NextStep": "Call the CFO"})


def test_inactive_validation_rule_is_not_enforced(demo_org: Emulator, sf: Any,
                                                   tmp_path: Path) -> None:
    demo_org.org.automation.load(write_rule(tmp_path, "Opportunity", "Never", "TRUE",
                                            "never", active=False))
    sf.Opportunity.update(some_opportunities(sf, 1)[0], {"NextStep": "x"})


def test_ischanged_rule_applies_to_updates_that_change_the_field(
        demo_org: Emulator, sf: Any, tmp_path: Path) -> None:
    demo_org.org.automation.load(write_rule(
        tmp_path, "Opportunity", "Amount_Locked", "ISCHANGED(Amount)",
        "Amount is set by CPQ.", "Amount"))
    opp = some_opportunities(sf, 1)[0]
    sf.Opportunity.update(opp, {"NextStep": "unchanged amount is fine"})
    with pytest.raises(SalesforceMalformedRequest):
        sf.Opportunity.update(opp, {"Amount": 1.0})
    created = sf.Opportunity.create({"Name": "New", "StageName": "Prospecting",
                                     "CloseDate": "2030-01-01", "Amount": 5.0})
    assert created["success"]  # an insert changes nothing


def test_validation_failure_fails_that_record_alone_in_collections(
        demo_org: Emulator, sf: Any, tmp_path: Path) -> None:
    demo_org.org.automation.load(write_rule(
        tmp_path, "Opportunity", "No_Big_Slips", "MAP_Days_Slipped__c > 30",
        "Slips over 30 days need a manager's review.", "MAP_Days_Slipped__c"))
    first, second = some_opportunities(sf)
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Opportunity"}, "Id": first, "MAP_Days_Slipped__c": 45},
        {"attributes": {"type": "Opportunity"}, "Id": second, "MAP_Days_Slipped__c": 5}]})
    assert results[0]["errors"] == [{
        "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Slips over 30 days need a manager's review.",
        "fields": ["MAP_Days_Slipped__c"]}]
    assert results[1]["success"] is True


def test_failing_trigger_answers_cannot_insert_update_activate_entity_with_apex_message(
        demo_org: Emulator, sf: Any) -> None:
    demo_org.org.automation.add_trigger("OpportunityTrigger", "Opportunity",
                                        events=("update",), when="ISCHANGED(MAP_Health__c)")
    opp = some_opportunities(sf, 1)[0]
    sf.Opportunity.update(opp, {"NextStep": "the condition does not hold"})
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Opportunity.update(opp, {"MAP_Health__c": "At Risk"})
    [error] = refused.value.content
    assert error["errorCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert error["message"].startswith("OpportunityTrigger: execution of BeforeUpdate\n\n"
                                       "caused by: System.DmlException")


def test_trigger_rate_fails_a_reproducible_share_of_rows_in_bulk(demo_org: Emulator,
                                                                  sf: Any) -> None:
    demo_org.org.automation.add_trigger("FlakyTrigger", "Opportunity", rate=0.5)
    ids = some_opportunities(sf, 40)
    csv = "Id,NextStep\n" + "".join(f"{i},Call\n" for i in ids)
    job = BulkClient(demo_org).ingest("Opportunity", "update", csv)
    assert 5 < job["numberRecordsFailed"] < 35
    failed = BulkClient(demo_org).results(job["id"], "failedResults")
    assert all(r["sf__Error"].startswith("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY:FlakyTrigger")
               for r in failed)


def test_trigger_on_inserts_leaves_updates_alone(demo_org: Emulator, sf: Any) -> None:
    demo_org.org.automation.add_trigger("OnInsert", "Account", events=("insert",))
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.create({"Name": "New"})
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    sf.Account.update(account, {"Phone": "555"})


def test_rule_outside_the_formula_subset_is_refused_when_loaded(demo_org: Emulator,
                                                                tmp_path: Path) -> None:
    write_rule(tmp_path, "Opportunity", "Regex", "REGEX(Name, '[0-9]+')", "digits")
    with pytest.raises(FormulaError, match="unsupported function REGEX"):
        demo_org.org.automation.load(tmp_path)


# ---- the formula subset ------------------------------------------------------------------

@pytest.mark.parametrize(("formula", "record", "prior", "holds"), [
    ("Amount > 1000", {"Amount": 2000.0}, None, True),
    ("Amount > 1000", {"Amount": None}, None, False),  # blank is blank, not zero
    ("Amount = NULL", {"Amount": None}, None, True),
    ("NOT(ISBLANK(Type)) && Type != 'New Business'", {"Type": "Existing Business"}, None,
     True),
    ("OR(StageName = 'Closed Won', Amount < 0)", {"StageName": "Prospecting", "Amount": 5},
     None, False),
    ("CloseDate < TODAY() + 7", {"CloseDate": "2026-03-05"}, None, True),
    ("CloseDate - DATE(2026, 1, 1) > 60", {"CloseDate": "2026-03-05"}, None, True),
    ("ISCHANGED(StageName)", {"StageName": "B"}, {"StageName": "A"}, True),
    ("ISCHANGED(StageName)", {"StageName": "A"}, None, False),
    ("PRIORVALUE(Amount) * 2 <= Amount", {"Amount": 10.0}, {"Amount": 5.0}, True),
    ("ISNEW() && LEN(Name) > 3", {"Name": "Long name"}, None, True),
    ("IF(IsClosed, 1, 2) = 2 && Name & '!' = 'a!'", {"IsClosed": 0, "Name": "a"}, None, True),
    ("BLANKVALUE(NextStep, 'none') = 'none'", {"NextStep": ""}, None, True),
])
def test_formula_subset(formula: str, record: dict[str, object],
                        prior: dict[str, object] | None, holds: bool) -> None:
    assert compile_formula(formula, opportunity()).holds(record, prior, TODAY) is holds


@pytest.mark.parametrize(("formula", "problem"), [
    ("Amount >", "cannot read formula"),
    ("Missing__c = 1", "no field Missing__c on Opportunity"),
    ("ISCHANGED(1)", "ISCHANGED takes one field name"),
])
def test_formula_errors_name_the_problem(formula: str, problem: str) -> None:
    with pytest.raises(FormulaError, match=problem):
        compile_formula(formula, opportunity())


def test_org_option_loads_a_customers_rules_from_their_own_directory(tmp_path: Path) -> None:
    from connectors.emulator.errors import RecordFailed
    from connectors.emulator.org import Org

    write_rule(tmp_path, "Account", "Needs_Phone", "ISBLANK(Phone)", "Phone is required.",
               "Phone")
    org = Org(seed="empty", automation_dirs=[tmp_path])
    org.access.make_admin(org.integration_user_id)
    account = org.schema.get("Account")
    assert account is not None
    with pytest.raises(RecordFailed, match="Phone is required"):
        org.store.create(account, {"Name": "A"}, org.integration_user_id)
    assert Org(seed="empty").automation.rules == []  # the product ships none
