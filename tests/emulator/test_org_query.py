"""SOQL over REST: query, queryAll, paging through nextRecordsUrl, COUNT(), columns."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import client_session, salesforce_client


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


def get(org, path, **headers):
    return client_session(org).get(
        org.instance_url + path,
        headers={"Authorization": "Bearer " + org.access_token(), **headers})


def test_query_pages_by_batch_size_with_a_locator_url(emulator_server):
    org = emulator_server
    org.reset(seed="empty", opportunities=450)
    first = get(org, "/services/data/v59.0/query?q=SELECT+Id+FROM+Opportunity",
                **{"Sforce-Query-Options": "batchSize=200"}).json()
    assert first["totalSize"] == 450
    assert first["done"] is False
    assert len(first["records"]) == 200
    locator = first["nextRecordsUrl"]
    assert locator.startswith("/services/data/v59.0/query/01g")
    assert locator.endswith("-200")
    second = get(org, locator).json()
    third = get(org, second["nextRecordsUrl"]).json()
    assert len(second["records"]) == 200
    assert len(third["records"]) == 50
    assert third["done"] is True
    assert "nextRecordsUrl" not in third
    ids = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert len(set(ids)) == 450


def test_batch_size_below_200_is_raised_to_200(emulator_server):
    org = emulator_server
    org.reset(seed="empty", opportunities=250)
    page = get(org, "/services/data/v59.0/query/?q=SELECT+Id+FROM+Opportunity",
               **{"Sforce-Query-Options": "batchSize=10"}).json()
    assert len(page["records"]) == 200


def test_default_page_is_2000_rows(emulator_server):
    org = emulator_server
    org.reset(seed="empty", opportunities=2001)
    sf = salesforce_client(org)
    page = sf.query("SELECT Id, Name FROM Opportunity")
    assert len(page["records"]) == 2000
    assert page["nextRecordsUrl"].endswith("-2000")
    assert len(sf.query_all("SELECT Id FROM Opportunity")["records"]) == 2001


def test_query_all_sees_deleted_records_and_query_does_not(sf):
    acc = sf.Account.create({"Name": "Recycled"})["id"]
    sf.Account.delete(acc)
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{acc}'"
    assert sf.query(soql)["totalSize"] == 0
    found = sf.query_all(soql, include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in found] == [(acc, True)]


def test_count_query_answers_total_size_only(sf):
    result = sf.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = false")
    assert result["totalSize"] == 40
    assert result["records"] == []


def test_parent_fields_come_back_nested(sf):
    rec = sf.query("SELECT Name, Account.Name FROM Opportunity WHERE Account.Name != null "
                   "ORDER BY Name LIMIT 1")["records"][0]
    assert rec["Account"]["attributes"]["type"] == "Account"
    assert isinstance(rec["Account"]["Name"], str)


def test_columns_true_answers_column_metadata(demo_org):
    body = get(demo_org, "/services/data/v59.0/query?q=SELECT+Id,+Name+FROM+Account"
                         "&columns=true").json()
    assert body["entityName"] == "Account"
    assert [c["columnName"] for c in body["columnMetadata"]] == ["Id", "Name"]
    assert body["idSelected"] is True


def test_malformed_query_is_400_with_the_soql_error_code(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.query("SELECT Id FROM Opportunity WHERE")
    assert bad.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.query("SELECT Nope__c FROM Opportunity")
    assert unknown.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_unknown_locator_is_refused(demo_org):
    r = get(demo_org, "/services/data/v59.0/query/01g000000000000-2000")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_each_page_is_one_api_call(emulator_server):
    org = emulator_server
    org.reset(seed="empty", opportunities=4500)
    salesforce_client(org).query_all("SELECT Id FROM Opportunity")
    assert org.api_calls == 3


def test_two_long_text_fields_page_by_200(emulator_server):
    org = emulator_server
    org.reset(seed="empty", opportunities=1)
    sf = salesforce_client(org)
    opp = sf.query("SELECT Id FROM Opportunity")["records"][0]["Id"]
    sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Mutual_Action_Plan__c"}, "Name": f"p{i}",
         "Opportunity__c": opp, "External_Id__c": f"lt{i}"} for i in range(200)]})
    sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Mutual_Action_Plan__c"}, "Name": "last",
         "Opportunity__c": opp, "External_Id__c": "lt200"}]})
    one = sf.query("SELECT Id, Summary__c FROM Mutual_Action_Plan__c")
    two = sf.query("SELECT Id, Summary__c, Success_Criteria__c FROM Mutual_Action_Plan__c")
    assert one["done"] is True
    assert len(one["records"]) == 201
    assert two["done"] is False
    assert len(two["records"]) == 200
