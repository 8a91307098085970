"""sObject Collections: 200 records a call, per-record results, allOrNone, upsert by
external id, delete and retrieve."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import salesforce_client


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


def an_opportunity(sf):
    return sf.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")["records"][0]["Id"]


def plan(ext, opp, **fields):
    return {"attributes": {"type": "Mutual_Action_Plan__c"}, "External_Id__c": ext,
            "Name": "Plan", "Opportunity__c": opp, **fields}


def upsert(sf, records, all_or_none=False, sobject="Mutual_Action_Plan__c"):
    return sf.restful(f"composite/sobjects/{sobject}/External_Id__c", method="PATCH",
                      json={"allOrNone": all_or_none, "records": records})


def test_create_answers_one_result_per_record_in_order(sf):
    results = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Account"}, "Name": "One"},
        {"attributes": {"type": "Account"}},
        {"attributes": {"type": "Contact"}, "LastName": "Three"}]})
    assert results[0]["success"] is True
    assert results[0]["id"].startswith("001")
    assert results[1] == {"id": None, "success": False, "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Name]",
        "fields": ["Name"]}]}
    assert results[2]["id"].startswith("003")


def test_upsert_reports_created_then_updated_and_never_duplicates(sf):
    opp = an_opportunity(sf)
    first = upsert(sf, [plan("P-1", opp), plan("P-2", opp)])
    again = upsert(sf, [plan("P-1", opp, Health__c="Off Track"), plan("P-2", opp)])
    assert [r["created"] for r in first] == [True, True]
    assert [r["created"] for r in again] == [False, False]
    assert [r["id"] for r in first] == [r["id"] for r in again]
    assert sf.query("SELECT COUNT() FROM Mutual_Action_Plan__c")["totalSize"] == 2


def test_upsert_per_record_errors_do_not_stop_the_others(sf):
    opp = an_opportunity(sf)
    results = upsert(sf, [plan("ok", opp), plan("bad", opp, Health__c="Sunny"),
                          plan("x" * 81, opp)])
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[2]["errors"][0]["statusCode"] == "STRING_TOO_LONG"


def test_bad_value_format_inside_collections_fails_only_its_record(sf):
    opp = an_opportunity(sf)
    results = upsert(sf, [plan("a", opp, Target_Close_Date__c="next week"), plan("b", opp)])
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert results[1]["success"] is True


def test_the_same_external_id_twice_in_one_request_fails_both(sf):
    opp = an_opportunity(sf)
    results = upsert(sf, [plan("twin", opp), plan("TWIN", opp)])
    assert [r["errors"][0]["statusCode"] for r in results] == ["DUPLICATE_EXTERNAL_ID"] * 2


def test_all_or_none_rolls_back_every_record(sf):
    opp = an_opportunity(sf)
    results = upsert(sf, [plan("r1", opp), plan("r2", opp, Status__c="Paused")],
                     all_or_none=True)
    assert results[0] == {"id": None, "success": False, "created": False, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request "
                   "was using AllOrNone header", "fields": []}]}
    assert sf.query("SELECT COUNT() FROM Mutual_Action_Plan__c")["totalSize"] == 0


def test_more_than_200_records_is_refused_whole(sf):
    opp = an_opportunity(sf)
    with pytest.raises(SalesforceMalformedRequest) as big:
        upsert(sf, [plan(f"e{i}", opp) for i in range(201)])
    assert big.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_200_records_are_one_api_call(demo_org):
    sf = salesforce_client(demo_org)
    opp = an_opportunity(sf)
    before = demo_org.api_calls
    assert all(r["success"] for r in upsert(sf, [plan(f"e{i}", opp) for i in range(200)]))
    assert demo_org.api_calls == before + 1


def test_update_needs_ids_and_reports_deleted_records(sf):
    acc = sf.Account.create({"Name": "Alive"})["id"]
    dead = sf.Account.create({"Name": "Dead"})["id"]
    sf.Account.delete(dead)
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Account"}, "id": acc, "Name": "Alive 2"},
        {"attributes": {"type": "Account"}, "id": dead, "Name": "Zombie"},
        {"attributes": {"type": "Account"}, "Name": "Who"}]})
    assert results[0] == {"id": acc, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert results[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"


def test_delete_by_ids_with_all_or_none(sf):
    a = sf.Account.create({"Name": "A"})["id"]
    b = sf.Account.create({"Name": "B"})["id"]
    missing = "001000000000zzzAAA"
    refused = sf.restful("composite/sobjects", method="DELETE",
                         params={"ids": f"{a},{missing}", "allOrNone": "true"})
    assert refused[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert refused[1]["id"] == missing
    assert refused[1]["success"] is False
    done = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{a},{b}"})
    assert [r["success"] for r in done] == [True, True]
    assert sf.query(f"SELECT COUNT() FROM Account WHERE Id IN ('{a}','{b}')")["totalSize"] == 0


def test_retrieve_by_ids_answers_records_in_order_and_null_for_missing(sf):
    a = sf.Account.create({"Name": "First"})["id"]
    b = sf.Account.create({"Name": "Second"})["id"]
    got = sf.restful("composite/sobjects/Account", method="GET",
                     params={"ids": f"{b},001000000000zzzAAA,{a}", "fields": "Id,Name"})
    assert [g and g["Name"] for g in got] == ["Second", None, "First"]
    posted = sf.restful("composite/sobjects/Account", method="POST",
                        json={"ids": [a], "fields": ["Name"]})
    assert posted[0]["Name"] == "First"


def test_unable_to_lock_row_knob_fails_single_records(demo_org):
    sf = salesforce_client(demo_org)
    opp = an_opportunity(sf)
    demo_org.set_knobs(lock_rate=0.5)
    demo_org.reseed_faults(7)
    results = upsert(sf, [plan(f"lock{i}", opp) for i in range(40)])
    locked = [r for r in results if not r["success"]]
    assert 5 < len(locked) < 35
    assert {r["errors"][0]["statusCode"] for r in locked} == {"UNABLE_TO_LOCK_ROW"}
    created = sf.query("SELECT COUNT() FROM Mutual_Action_Plan__c")["totalSize"]
    assert created == 40 - len(locked)


@pytest.mark.parametrize(("sobject", "key"), [("Opportunity", "Id"), ("Account", "Name"),
                                              ("Mutual_Action_Plan__c", "Name")])
def test_collections_upsert_refuses_record_ids_and_non_external_id_keys(sf, sobject, key):
    opp = an_opportunity(sf)
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.restful(f"composite/sobjects/{sobject}/{key}", method="PATCH", json={
            "allOrNone": False,
            "records": [{"attributes": {"type": sobject}, key: opp, "Name": "x"}]})
    assert bad.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert f"{key} is not an External ID field" in bad.value.content[0]["message"]
    assert sf.Opportunity.get(opp)["Name"] != "x"


def test_single_record_upsert_by_external_id_still_works(sf):
    opp = an_opportunity(sf)
    body = {"Name": "Single", "Opportunity__c": opp}
    assert sf.Mutual_Action_Plan__c.upsert("External_Id__c/single-1", body) == 201
    assert sf.Mutual_Action_Plan__c.upsert("External_Id__c/single-1", body) == 200


def test_collections_update_by_id_answers_per_record_results(sf):
    opp = an_opportunity(sf)
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Opportunity"}, "Id": opp, "Description": "rolled up"},
        {"attributes": {"type": "Opportunity"}, "Id": opp[:3] + "0" * 15, "Name": "x"}]})
    assert results[0] == {"id": opp, "success": True, "errors": []}
    assert results[1]["success"] is False
    assert sf.Opportunity.get(opp)["Description"] == "rolled up"
