"""Values as Salesforce stores them: trimmed text, datetimes to the whole second, and
response headers cased as Salesforce sends them (checked on the raw wire)."""

import http.client
import ssl

import pytest

from connectors.emulator.pytest_plugin import salesforce_client


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


def _opportunity(sf):
    return sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]


def test_text_is_trimmed_of_surrounding_whitespace(sf):
    created = sf.Account.create({"Name": "  Padded Ltd \t", "Phone": " 555 0100 "})
    record = sf.Account.get(created["id"])
    assert record["Name"] == "Padded Ltd"
    assert record["Phone"] == "555 0100"
    sf.Account.update(created["id"], {"Name": "Inner  spaces kept\n"})
    assert sf.Account.get(created["id"])["Name"] == "Inner  spaces kept"


def test_whitespace_only_text_is_stored_as_null(sf):
    created = sf.Account.create({"Name": "Blank Phone Co", "Phone": "555"})
    sf.Account.update(created["id"], {"Phone": "   "})
    assert sf.Account.get(created["id"])["Phone"] is None
    found = sf.query("SELECT Id FROM Account WHERE Phone = null AND Name = 'Blank Phone Co'")
    assert found["totalSize"] == 1


def test_required_text_of_only_whitespace_is_missing(sf):
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Account.create({"Name": "   "})
    assert bad.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_trimmed_length_is_what_counts_against_the_field_length(sf):
    name = "x" * 255
    created = sf.Account.create({"Name": f"  {name}  "})
    assert sf.Account.get(created["id"])["Name"] == name


def test_audit_datetimes_are_stored_to_the_whole_second(sf):
    created = sf.Account.create({"Name": "Stamped Ltd"})
    record = sf.Account.get(created["id"])
    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert record[name].endswith(".000+0000"), (name, record[name])


def test_datetime_values_lose_their_milliseconds(sf):
    plan = sf.Mutual_Action_Plan__c.create({
        "Name": "Plan", "Opportunity__c": _opportunity(sf), "External_Id__c": "ms-plan",
        "Last_Synced_At__c": "2026-03-01T10:20:30.987Z"})
    stored = sf.Mutual_Action_Plan__c.get(plan["id"])["Last_Synced_At__c"]
    assert stored == "2026-03-01T10:20:30.000+0000"


def _raw_get(org, path, token):
    host, port = org.instance_url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(org.ca_file))
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        return [name for name, _ in response.getheaders()]
    finally:
        conn.close()


def test_header_names_on_the_wire_are_cased_as_salesforce_sends_them(demo_org):
    token = demo_org.access_token()
    names = _raw_get(demo_org, "/services/data/v59.0/limits", token)
    assert {"Date", "Content-Type", "Sforce-Limit-Info"} <= set(names)
    assert not {"date", "content-type", "sforce-limit-info", "server"} & set(names)


def test_bulk_result_headers_on_the_wire_are_cased_as_salesforce_sends_them(demo_org):
    sf = salesforce_client(demo_org)
    job = sf.restful("jobs/query", method="POST", json={
        "operation": "query", "query": "SELECT Id FROM Account"})
    import time

    for _ in range(100):
        if sf.restful(f"jobs/query/{job['id']}")["state"] == "JobComplete":
            break
        time.sleep(0.05)
    names = _raw_get(demo_org, f"/services/data/v59.0/jobs/query/{job['id']}/results",
                     demo_org.access_token())
    assert {"Sforce-Locator", "Sforce-NumberOfRecords", "Content-Type"} <= set(names)
