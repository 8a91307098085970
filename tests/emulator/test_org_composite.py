"""Composite: subrequests chained with @{ref} references, one API call, allOrNone."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import salesforce_client

V = "/services/data/v59.0"


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


def composite(sf, subrequests, all_or_none=False):
    return sf.restful("composite", method="POST", json={
        "allOrNone": all_or_none, "compositeRequest": subrequests})["compositeResponse"]


def test_later_subrequests_use_earlier_results_and_all_cost_one_call(demo_org):
    sf = salesforce_client(demo_org)
    before = demo_org.api_calls
    out = composite(sf, [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acc",
         "body": {"Name": "Composite Co"}},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Chained", "AccountId": "@{acc.id}"}},
        {"method": "GET", "referenceId": "q",
         "url": f"{V}/query?q=SELECT+Id,AccountId+FROM+Contact+WHERE+Id='@{{con.id}}'"},
        {"method": "GET", "url": f"{V}/sobjects/Account/@{{q.records[0].AccountId}}",
         "referenceId": "read"},
    ])
    assert [o["httpStatusCode"] for o in out] == [201, 201, 200, 200]
    assert out[0]["httpHeaders"] == {
        "Location": f"{V}/sobjects/Account/{out[0]['body']['id']}"}
    assert out[3]["body"]["Name"] == "Composite Co"
    assert demo_org.api_calls == before + 1


def test_collections_inside_composite(sf):
    opp = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    out = composite(sf, [{
        "method": "PATCH", "url": f"{V}/composite/sobjects/Mutual_Action_Plan__c/External_Id__c",
        "referenceId": "plans", "body": {"records": [{
            "attributes": {"type": "Mutual_Action_Plan__c"}, "External_Id__c": opp,
            "Name": "Plan", "Opportunity__c": opp}]}}])
    assert out[0]["httpStatusCode"] == 200
    assert out[0]["body"][0]["created"] is True


def test_all_or_none_rolls_back_earlier_subrequests(sf):
    out = composite(sf, [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "good",
         "body": {"Name": "Rolled Back Inc"}},
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "bad",
         "body": {"Nope__c": 1}},
    ], all_or_none=True)
    assert out[0]["httpStatusCode"] == 400
    assert out[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert out[1]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled Back Inc'")[
        "totalSize"] == 0


def test_without_all_or_none_a_failure_keeps_the_others(sf):
    out = composite(sf, [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "good",
         "body": {"Name": "Kept Inc"}},
        {"method": "GET", "url": f"{V}/sobjects/Account/001000000000zzzAAA",
         "referenceId": "missing"},
    ])
    assert [o["httpStatusCode"] for o in out] == [201, 404]
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Kept Inc'")["totalSize"] == 1


def test_a_reference_to_nothing_halts_that_subrequest(sf):
    out = composite(sf, [{"method": "GET", "url": f"{V}/sobjects/Account/@{{nope.id}}",
                          "referenceId": "x"}])
    assert out[0]["httpStatusCode"] == 400
    assert out[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_more_than_25_subrequests_are_refused(sf):
    subs = [{"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)]
    with pytest.raises(SalesforceMalformedRequest):
        composite(sf, subs)


def test_more_than_5_queries_are_refused(sf):
    subs = [{"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Account",
             "referenceId": f"q{i}"} for i in range(6)]
    with pytest.raises(SalesforceMalformedRequest):
        composite(sf, subs)
