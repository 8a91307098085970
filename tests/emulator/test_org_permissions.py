"""Object permissions, field-level security and record sharing, as Salesforce enforces them.

These tests use the org as shipped (``strict_org``): the integration user holds only the
``Mapsync_Integration`` permission set, reps the Standard User profile, and Opportunities
are private to their owners.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import BulkClient


class As:
    """Raw REST calls in one user's session."""

    def __init__(self, org: Emulator, user_id: str | None = None) -> None:
        self.session = client_session(org)
        self.session.headers["Authorization"] = "Bearer " + org.access_token(user_id)
        self.base = f"{org.instance_url}/services/data/v59.0"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}/{path}", timeout=30, **kw)

    def query(self, soql: str) -> requests.Response:
        return self.call("GET", "query", params={"q": soql})

    def records(self, soql: str) -> list[dict[str, Any]]:
        r = self.query(soql)
        assert r.status_code == 200, r.text
        return list(r.json()["records"])


def reps(org: Emulator) -> list[str]:
    """The reps who own Opportunities in the demo seed."""
    rows = As(org).records("SELECT OwnerId FROM Opportunity WHERE Owner.Profile.Name = "
                           "'Standard User'")
    return sorted({r["OwnerId"] for r in rows})


def owned_by(org: Emulator, user_id: str) -> list[str]:
    rows = As(org).records(f"SELECT Id FROM Opportunity WHERE OwnerId = '{user_id}'")
    return [r["Id"] for r in rows]


def minimum_access_user(org: Emulator) -> str:
    """A user whose profile grants nothing and who holds no permission set."""
    store = org.org.store
    profile = store.conn.execute(
        "SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'"
    ).fetchone()[0]
    user = org.org.schema.get("User")
    assert user is not None
    return store.insert_rows(user, [{
        "Username": "nobody@northwind.example", "LastName": "Nobody", "Alias": "nobody",
        "Email": "nobody@northwind.example", "ProfileId": profile}],
        org.org.integration_user_id)[0]


# ---- field-level security --------------------------------------------------------------

def test_unreadable_field_in_soql_is_no_such_column(strict_org: Emulator) -> None:
    r = As(strict_org).query("SELECT Id, Description FROM Opportunity")
    assert r.status_code == 400
    [error] = r.json()
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Description' on entity 'Opportunity'" in error["message"]


def test_unreadable_field_in_a_filter_is_no_such_column_too(strict_org: Emulator) -> None:
    r = As(strict_org).query("SELECT Id FROM Opportunity WHERE LeadSource = 'Web'")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"


def test_describe_lists_readable_fields_only_and_read_only_ones_as_not_updateable(
        strict_org: Emulator) -> None:
    fields = {f["name"]: f for f in As(strict_org).call(
        "GET", "sobjects/Opportunity/describe").json()["fields"]}
    assert "Description" not in fields
    assert "LeadSource" not in fields
    assert fields["Amount"]["updateable"] is False
    assert fields["MAP_Health__c"]["updateable"] is True
    assert fields["StageName"]["updateable"] is True  # required: not subject to FLS


def test_get_record_answers_readable_fields_only(strict_org: Emulator) -> None:
    opp = owned_by(strict_org, reps(strict_org)[0])[0]
    record = As(strict_org).call("GET", f"sobjects/Opportunity/{opp}").json()
    assert "Amount" in record
    assert "MAP_Health__c" in record
    assert "Description" not in record
    assert "NextStep" not in record


def test_writing_a_read_only_field_is_invalid_field_for_insert_update(
        strict_org: Emulator) -> None:
    opp = owned_by(strict_org, reps(strict_org)[0])[0]
    r = As(strict_org).call("PATCH", f"sobjects/Opportunity/{opp}", json={"Amount": 1.0})
    assert r.status_code == 400
    [error] = r.json()
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["Amount"]


def test_writing_an_unreadable_field_is_no_such_column(strict_org: Emulator) -> None:
    opp = owned_by(strict_org, reps(strict_org)[0])[0]
    r = As(strict_org).call("PATCH", f"sobjects/Opportunity/{opp}",
                            json={"Description": "x"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"


def test_editable_field_of_another_users_private_record_is_written_with_modify_all(
        strict_org: Emulator) -> None:
    opp = owned_by(strict_org, reps(strict_org)[0])[0]
    r = As(strict_org).call("PATCH", f"sobjects/Opportunity/{opp}",
                            json={"MAP_Health__c": "On Track"})
    assert r.status_code == 204, r.text


# ---- object permissions ----------------------------------------------------------------

def test_create_without_create_permission_is_insufficient_access(strict_org: Emulator) -> None:
    r = As(strict_org).call("POST", "sobjects/Account", json={"Name": "Nope"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_object_without_read_permission_is_not_supported_in_soql_and_absent_elsewhere(
        strict_org: Emulator) -> None:
    nobody = As(strict_org, minimum_access_user(strict_org))
    r = nobody.query("SELECT Id FROM Mutual_Action_Plan__c")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_TYPE"
    assert nobody.call("GET", "sobjects/Opportunity/describe").status_code == 404
    names = {o["name"] for o in nobody.call("GET", "sobjects").json()["sobjects"]}
    assert "Opportunity" not in names
    assert "User" in names


def test_collections_write_to_an_unreadable_object_fails_that_record_invalid_type(
        strict_org: Emulator) -> None:
    nobody = As(strict_org, minimum_access_user(strict_org))
    r = nobody.call("POST", "composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "Name": "A"}]})
    assert r.status_code == 200
    assert r.json()[0]["errors"][0]["statusCode"] == "INVALID_TYPE"


# ---- sharing: organisation-wide defaults and ownership ---------------------------------

def test_private_opportunities_are_absent_from_another_reps_queries(
        strict_org: Emulator) -> None:
    first, second = reps(strict_org)[:2]
    mine = set(owned_by(strict_org, first))
    seen = {r["Id"] for r in As(strict_org, first).records("SELECT Id FROM Opportunity")}
    assert seen == mine
    assert mine
    count = As(strict_org, first).query("SELECT COUNT() FROM Opportunity").json()["totalSize"]
    assert count == len(mine)
    theirs = owned_by(strict_org, second)[0]
    assert As(strict_org, first).call("GET", f"sobjects/Opportunity/{theirs}"
                                      ).status_code == 404


def test_view_all_sees_every_private_record(strict_org: Emulator) -> None:
    assert len(As(strict_org).records("SELECT Id FROM Opportunity")) == 50


def test_editing_a_record_one_cannot_edit_fails_that_record_alone_in_collections(
        strict_org: Emulator) -> None:
    first, second = reps(strict_org)[:2]
    mine, theirs = owned_by(strict_org, first)[0], owned_by(strict_org, second)[0]
    r = As(strict_org, first).call("PATCH", "composite/sobjects", json={"records": [
        {"attributes": {"type": "Opportunity"}, "Id": mine, "NextStep": "Call"},
        {"attributes": {"type": "Opportunity"}, "Id": theirs, "NextStep": "Call"}]})
    ok, refused = r.json()
    assert ok["success"] is True
    assert refused["errors"][0]["statusCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert refused["errors"][0]["message"] == "insufficient access rights on object id"


def test_read_write_default_lets_every_rep_see_and_edit(strict_org: Emulator) -> None:
    strict_org.org.access.set_sharing("Opportunity", "ReadWrite")
    first, second = reps(strict_org)[:2]
    theirs = owned_by(strict_org, second)[0]
    assert len(As(strict_org, first).records("SELECT Id FROM Opportunity")) == 50
    r = As(strict_org, first).call("PATCH", f"sobjects/Opportunity/{theirs}",
                                   json={"NextStep": "Call"})
    assert r.status_code == 204


def test_read_only_default_shows_but_refuses_the_edit(strict_org: Emulator) -> None:
    strict_org.org.access.set_sharing("Opportunity", "Read")
    first, second = reps(strict_org)[:2]
    theirs = owned_by(strict_org, second)[0]
    assert As(strict_org, first).call("GET", f"sobjects/Opportunity/{theirs}"
                                      ).status_code == 200
    r = As(strict_org, first).call("PATCH", f"sobjects/Opportunity/{theirs}",
                                   json={"NextStep": "Call"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_controlled_by_parent_records_follow_their_master(strict_org: Emulator) -> None:
    opp = owned_by(strict_org, reps(strict_org)[0])[0]
    integration = As(strict_org)
    plan = integration.call("POST", "sobjects/Mutual_Action_Plan__c", json={
        "Name": "Plan", "Opportunity__c": opp, "External_Id__c": opp}).json()["id"]
    r = integration.call("POST", "sobjects/MAP_Milestone__c", json={
        "Name": "Kick-off", "Plan__c": plan, "External_Id__c": f"{opp}:kickoff"})
    assert r.status_code == 201, r.text
    rep = As(strict_org, reps(strict_org)[0])
    assert len(rep.records("SELECT Id FROM MAP_Milestone__c")) == 1
    strict_org.org.access.set_sharing("Mutual_Action_Plan__c", "Private")  # owned by mapsync
    assert rep.records("SELECT Id FROM MAP_Milestone__c") == []


def test_sharing_knob_refuses_an_unknown_model(strict_org: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown sharing model"):
        strict_org.org.access.set_sharing("Opportunity", "Public")


# ---- Bulk API 2.0 and Composite --------------------------------------------------------

def test_bulk_ingest_rows_fail_one_by_one_on_a_read_only_field(strict_org: Emulator) -> None:
    bulk = BulkClient(strict_org)
    opps = owned_by(strict_org, reps(strict_org)[0])[:2]
    job = bulk.ingest("Opportunity", "update",
                      f"Id,MAP_Health__c\n{opps[0]},On Track\n{opps[1]},At Risk\n")
    assert job["numberRecordsFailed"] == 0
    job = bulk.ingest("Opportunity", "update", f"Id,Amount\n{opps[0]},5\n{opps[1]},6\n")
    assert job["numberRecordsFailed"] == 2
    failed = bulk.results(job["id"], "failedResults")
    assert all(row["sf__Error"].startswith("INVALID_FIELD_FOR_INSERT_UPDATE") for row in failed)


def test_bulk_query_of_an_unreadable_field_is_refused(strict_org: Emulator) -> None:
    bulk = BulkClient(strict_org)
    r = bulk.call("POST", "query", json={"operation": "query",
                                         "query": "SELECT Id, Description FROM Opportunity"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"


def test_bulk_query_leaves_out_records_the_user_cannot_see(strict_org: Emulator) -> None:
    first = reps(strict_org)[0]
    bulk = BulkClient(strict_org)
    bulk.session.headers["Authorization"] = "Bearer " + strict_org.access_token(first)
    job = bulk.query("SELECT Id FROM Opportunity")
    assert job["numberRecordsProcessed"] == len(owned_by(strict_org, first))


def test_composite_subrequests_are_refused_as_the_same_user(strict_org: Emulator) -> None:
    r = As(strict_org).call("POST", "composite", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account",
         "referenceId": "acc", "body": {"Name": "Nope"}},
        {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Description+FROM+Account",
         "referenceId": "q"}]})
    created, queried = r.json()["compositeResponse"]
    assert created["httpStatusCode"] == 400
    assert created["body"][0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert queried["httpStatusCode"] == 400
    assert queried["body"][0]["errorCode"] == "INVALID_FIELD"
