"""Single-record REST and describe through simple-salesforce, statuses and bodies as
Salesforce answers them."""

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connectors.emulator.pytest_plugin import client_session, salesforce_client


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


def test_versions_list_needs_no_session_and_is_not_counted(emulator):
    r = client_session(emulator).get(emulator.instance_url + "/services/data")
    versions = [v["version"] for v in r.json()]
    assert {"50.0", "51.0", "59.0"} <= set(versions)
    assert r.json()[versions.index("59.0")] == {"label": "Winter '24",
                                                "url": "/services/data/v59.0",
                                                "version": "59.0"}
    assert emulator.api_calls == 0


def test_every_api_response_reports_usage_in_the_limit_header(emulator):
    s = client_session(emulator)
    h = {"Authorization": "Bearer " + emulator.access_token()}
    first = s.get(emulator.instance_url + "/services/data/v59.0/sobjects", headers=h)
    second = s.get(emulator.instance_url + "/services/data/v59.0/limits", headers=h)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    assert second.json()["DailyApiRequests"] == {"Max": 100000, "Remaining": 99998}


def test_create_get_update_delete_round_trip(sf):
    created = sf.Account.create({"Name": "Round Trip Ltd", "NumberOfEmployees": 12})
    assert created["success"] is True
    assert created["id"].startswith("001")
    assert sf.Account.update(created["id"], {"Name": "Renamed Ltd"}) == 204
    record = sf.Account.get(created["id"])
    assert record["Name"] == "Renamed Ltd"
    assert record["NumberOfEmployees"] == 12
    assert record["attributes"] == {"type": "Account",
                                    "url": f"/services/data/v59.0/sobjects/Account/{created['id']}"}
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as gone:
        sf.Account.get(created["id"])
    assert gone.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_get_with_fields_returns_only_those(sf):
    acc = sf.Account.create({"Name": "Fields Co", "Industry": "Energy"})
    record = sf.Account.get(acc["id"], params={"fields": "Name"})
    assert set(record) == {"attributes", "Name"}


def test_unknown_record_is_404_with_salesforces_message(sf):
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.get("001000000000001AAA")
    assert missing.value.content == [{"message": "The requested resource does not exist",
                                      "errorCode": "NOT_FOUND"}]


def test_unknown_sobject_is_404(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.Widget__c.describe()


def test_invalid_value_on_create_answers_400_with_code_and_fields(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Opportunity.create({"Name": "x", "StageName": "Maybe", "CloseDate": "2026-01-01"})
    assert bad.value.content == [{
        "message": "Stage: bad value for restricted picklist field: Maybe",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["StageName"]}]


def test_bad_number_alone_is_a_json_parser_error(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Account.create({"Name": "x", "NumberOfEmployees": "many"})
    assert bad.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_upsert_by_external_id_creates_201_then_updates(sf):
    opp = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    r1 = sf.Mutual_Action_Plan__c.upsert(f"External_Id__c/{opp}",
                                         {"Name": "Plan", "Opportunity__c": opp},
                                         raw_response=True)
    r2 = sf.Mutual_Action_Plan__c.upsert(f"External_Id__c/{opp}", {"Health__c": "At Risk"},
                                         raw_response=True)
    assert r1.status_code == 201
    assert r1.json()["created"] is True
    assert r2.status_code == 200
    assert r2.json() == {"id": r1.json()["id"], "success": True,
                                                   "errors": [], "created": False}
    assert sf.Mutual_Action_Plan__c.get_by_custom_id("External_Id__c", opp)["Health__c"] == \
        "At Risk"


def test_upsert_matching_two_records_answers_300(emulator):
    from connectors.emulator.schema import FieldDef

    account = emulator.org.schema.get("Account")
    account.add(FieldDef("Legacy_Key__c", "string", length=40, external_id=True, custom=True))
    try:
        emulator.org.store.create_tables()
        sf = salesforce_client(emulator)
        sf.Account.create({"Name": "a", "Legacy_Key__c": "K"})
        sf.Account.create({"Name": "b", "Legacy_Key__c": "K"})
        with pytest.raises(SalesforceMoreThanOneRecord) as many:
            sf.Account.upsert("Legacy_Key__c/K", {"Name": "c"})
        assert len(many.value.content) == 2
        assert many.value.content[0].startswith("/services/data/v59.0/sobjects/Account/001")
    finally:
        del account.fields["Legacy_Key__c"]
        account.__post_init__()


def test_describe_reports_fields_picklists_and_relationships(sf):
    d = sf.Opportunity.describe()
    fields = {f["name"]: f for f in d["fields"]}
    assert d["keyPrefix"] == "006"
    stage = fields["StageName"]
    assert [p["value"] for p in stage["picklistValues"]][:2] == ["Prospecting", "Qualification"]
    assert stage["restrictedPicklist"] is True
    assert stage["nillable"] is False
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["MAP_Health__c"]["custom"] is True
    assert {"childSObject": "OpportunityContactRole", "field": "OpportunityId",
            "relationshipName": "OpportunityContactRoles"}.items() <= next(
        c for c in d["childRelationships"] if c["childSObject"] == "OpportunityContactRole"
    ).items()
    plan = {f["name"]: f for f in sf.Mutual_Action_Plan__c.describe()["fields"]}
    assert plan["External_Id__c"]["externalId"] is True
    assert plan["External_Id__c"]["unique"]


def test_global_describe_lists_standard_and_custom_objects(sf):
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert names["Account"]["keyPrefix"] == "001"
    assert names["MAP_Milestone__c"]["custom"] is True


def test_updated_and_deleted_list_what_changed_in_the_window(sf):
    start = datetime.now(UTC) - timedelta(minutes=1)
    kept = sf.Account.create({"Name": "Kept"})["id"]
    dropped = sf.Account.create({"Name": "Dropped"})["id"]
    sf.Account.delete(dropped)
    end = datetime.now(UTC) + timedelta(minutes=2)
    assert kept in sf.Account.updated(start, end)["ids"]
    assert dropped not in sf.Account.updated(start, end)["ids"]
    deleted = sf.Account.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [dropped]


def test_object_root_answers_its_summary(sf):
    info = sf.Account.metadata()
    assert info["objectDescribe"]["name"] == "Account"
    assert info["objectDescribe"]["keyPrefix"] == "001"


def test_patch_with_a_malformed_id_is_400_malformed_id(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Account.update("003000000000001", {"Name": "x"})
    assert bad.value.content[0]["errorCode"] == "MALFORMED_ID"


def test_delete_by_external_id_removes_the_record(sf):
    opp = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    sf.Mutual_Action_Plan__c.upsert(f"External_Id__c/{opp}",
                                    {"Name": "Plan", "Opportunity__c": opp})
    assert sf.Mutual_Action_Plan__c.delete(f"External_Id__c/{opp}") == 204
    assert sf.query("SELECT COUNT() FROM Mutual_Action_Plan__c")["totalSize"] == 0


def test_unknown_resource_and_unknown_version_are_404_not_found(emulator):
    s = client_session(emulator)
    h = {"Authorization": "Bearer " + emulator.access_token()}
    for path in ("/services/data/v59.0/nothing/here", "/services/data/v12.0/limits"):
        r = s.get(emulator.instance_url + path, headers=h)
        assert r.status_code == 404
        assert r.json() == [{"message": "The requested resource does not exist",
                             "errorCode": "NOT_FOUND"}]


def test_wrong_method_is_405_method_not_allowed(emulator):
    r = client_session(emulator).put(
        emulator.instance_url + "/services/data/v59.0/limits",
        headers={"Authorization": "Bearer " + emulator.access_token()})
    assert r.status_code == 405
    assert r.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_a_defect_in_a_route_answers_500_unknown_exception(tmp_path):
    import types

    from connectors.emulator.routing import api
    from connectors.emulator.server import Emulator

    async def broken(call):
        raise RuntimeError("defect")

    module = types.ModuleType("broken_routes")
    module.ROUTES = api("/broken", broken, ["GET"])  # type: ignore[attr-defined]
    with Emulator(seed="empty", extra_route_modules=[module], keys_dir=tmp_path) as org:
        r = client_session(org).get(org.instance_url + "/services/data/v59.0/broken",
                                    headers={"Authorization": "Bearer " + org.access_token()})
    assert r.status_code == 500
    assert r.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
