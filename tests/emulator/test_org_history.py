"""Field and stage history in the local org, kept as Salesforce keeps it.

Edits come from a rep's own session and from the integration user's, over HTTPS, and
``CreatedById`` of each history row tells them apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import client_session, salesforce_client
from tests.emulator.bulk_support import BulkClient

HISTORY_COLUMNS = "ParentId, Field, DataType, OldValue, NewValue, CreatedById, CreatedDate"


class Actors:
    """The integration user and one rep, each with a simple-salesforce client."""

    def __init__(self, org: Any) -> None:
        self.org = org
        self.admin: Any = salesforce_client(org)
        self.admin_id = org.org.integration_user_id
        rep = self.admin.query(
            f"SELECT Id FROM User WHERE Username != '{org.username}' ORDER BY Username LIMIT 1")
        self.rep_id = rep["records"][0]["Id"]
        self.rep: Any = salesforce_client(org, session_id=org.access_token(self.rep_id))
        account = self.rep.Account.create({"Name": "Initech"})["id"]
        self.opportunity = self.rep.Opportunity.create({
            "Name": "Initech – Platform", "StageName": "Needs Analysis",
            "CloseDate": "2026-06-30", "Amount": 50000, "AccountId": account})["id"]
        self.plan = self.admin.Mutual_Action_Plan__c.create({
            "Name": "Initech MAP", "Opportunity__c": self.opportunity,
            "Status__c": "Active", "Template__c": "enterprise"})["id"]

    def milestone(self, **fields: Any) -> str:
        body = {"Name": "Security review", "Plan__c": self.plan, "Status__c": "Not Started",
                "Due_Date__c": "2026-05-01", **fields}
        return str(self.admin.MAP_Milestone__c.create(body)["id"])

    def history(self, sobject: str, parent: str, parent_field: str = "ParentId",
                columns: str = HISTORY_COLUMNS,
                include_deleted: bool = False) -> list[dict[str, Any]]:
        rows = self.admin.query_all(
            f"SELECT {columns} FROM {sobject} WHERE {parent_field} = '{parent}' "
            "ORDER BY CreatedDate, Id", include_deleted=include_deleted)["records"]
        for row in rows:
            row.pop("attributes")
        return list(rows)


@pytest.fixture
def org(emulator: Any) -> Actors:
    return Actors(emulator)


def bulk_as(org: Any, user_id: str | None = None) -> BulkClient:
    bulk = BulkClient(org)
    bulk.session.headers["Authorization"] = "Bearer " + org.access_token(user_id)
    return bulk


def run_query_job(org: Any, soql: str) -> list[str]:
    bulk = bulk_as(org)
    job = bulk.query(soql)
    assert job["state"] == "JobComplete", job
    return bulk.call("GET", f"query/{job['id']}/results").text.splitlines()


def changes(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["Field"], r["OldValue"], r["NewValue"]) for r in rows]


def test_insert_writes_one_created_row_by_its_creator(org: Actors) -> None:
    milestone = org.milestone()
    rows = org.history("MAP_Milestone__History", milestone)
    assert [(r["Field"], r["DataType"], r["OldValue"], r["NewValue"], r["CreatedById"])
            for r in rows] == [("created", "Text", None, None, org.admin_id)]


def test_update_writes_one_history_row_per_tracked_field_changed(org: Actors) -> None:
    milestone = org.milestone()
    org.rep.MAP_Milestone__c.update(milestone, {
        "Status__c": "Done", "Completed_Date__c": "2026-04-20", "Due_Date__c": "2026-05-01",
        "Sequence__c": 3, "Name": "Security sign-off"})
    rows = org.history("MAP_Milestone__History", milestone)[1:]
    assert sorted(changes(rows)) == [
        ("Completed_Date__c", None, "2026-04-20"),
        ("Name", "Security review", "Security sign-off"),
        ("Status__c", "Not Started", "Done"),
    ]  # Due_Date__c unchanged, Sequence__c untracked
    assert {r["CreatedById"] for r in rows} == {org.rep_id}
    assert {r["DataType"] for r in rows} == {"DateOnly", "Text", "DynamicEnum"}
    record = org.admin.MAP_Milestone__c.get(milestone)
    assert {r["CreatedDate"] for r in rows} == {record["LastModifiedDate"]}


def test_save_without_change_writes_no_history(org: Actors) -> None:
    milestone = org.milestone()
    org.rep.MAP_Milestone__c.update(milestone, {"Status__c": "Not Started",
                                                "Due_Date__c": "2026-05-01"})
    assert [r["Field"] for r in org.history("MAP_Milestone__History", milestone)] == ["created"]


def test_rep_and_integration_user_edits_are_told_apart_by_created_by(org: Actors) -> None:
    milestone = org.milestone()
    org.rep.MAP_Milestone__c.update(milestone, {"Status__c": "In Progress"})
    org.admin.MAP_Milestone__c.update(milestone, {"Due_Date__c": "2026-05-08"})
    rows = org.history("MAP_Milestone__History", milestone)
    assert [(r["Field"], r["CreatedById"]) for r in rows] == [
        ("created", org.admin_id), ("Status__c", org.rep_id), ("Due_Date__c", org.admin_id)]


def test_long_text_history_has_no_values(org: Actors) -> None:
    milestone = org.milestone(Notes__c="first notes")
    org.rep.MAP_Milestone__c.update(milestone, {"Notes__c": "second notes"})
    org.rep.Mutual_Action_Plan__c.update(org.plan, {"Summary__c": "a summary"})
    notes = org.history("MAP_Milestone__History", milestone)[1:]
    summary = org.history("Mutual_Action_Plan__History", org.plan)[1:]
    assert [(r["Field"], r["DataType"], r["OldValue"], r["NewValue"]) for r in notes] == [
        ("Notes__c", "StringPlusClob", None, None)]
    assert changes(summary) == [("Summary__c", None, None)]


def test_lookup_change_writes_a_name_row_and_an_id_row(org: Actors) -> None:
    contact = org.rep.Contact.create({"FirstName": "Ada", "LastName": "Lovelace"})["id"]
    milestone = org.milestone()
    org.rep.MAP_Milestone__c.update(milestone, {"Owner_Contact__c": contact})
    rows = org.history("MAP_Milestone__History", milestone)[1:]
    assert sorted((r["DataType"], r["OldValue"], r["NewValue"]) for r in rows) == [
        ("EntityId", None, contact), ("Text", None, "Ada Lovelace")]


def test_values_keep_their_json_types(org: Actors) -> None:
    org.rep.Opportunity.update(org.opportunity, {"Amount": 75000.5})
    rows = org.history("OpportunityFieldHistory", org.opportunity, "OpportunityId",
                       "OpportunityId, Field, DataType, OldValue, NewValue")
    assert [(r["Field"], r["DataType"], r["OldValue"], r["NewValue"]) for r in rows] == [
        ("created", "Text", None, None), ("Amount", "Currency", 50000.0, 75000.5)]


def test_history_ids_have_the_key_prefix_017_and_one_sequence(org: Actors) -> None:
    milestone = org.milestone()
    ids = [r["Id"] for r in org.admin.query_all(
        "SELECT Id FROM MAP_Milestone__History")["records"]]
    ids += [r["Id"] for r in org.admin.query_all(
        "SELECT Id FROM Mutual_Action_Plan__History")["records"]]
    ids += [r["Id"] for r in org.admin.query_all(
        "SELECT Id FROM OpportunityFieldHistory")["records"]]
    assert milestone
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert {i[:3] for i in ids} == {"017"}


def test_history_objects_are_read_only(org: Actors) -> None:
    milestone = org.milestone()
    row = org.admin.query(f"SELECT Id FROM MAP_Milestone__History WHERE ParentId = "
                          f"'{milestone}'")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as created:
        org.admin.MAP_Milestone__History.create({"ParentId": milestone, "Field": "Status__c"})
    assert created.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    assert created.value.content[0]["message"] == (
        "entity type cannot be inserted: MAP Milestone History")
    with pytest.raises(SalesforceMalformedRequest) as updated:
        org.admin.MAP_Milestone__History.update(row, {"Field": "Status__c"})
    assert updated.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    with pytest.raises(SalesforceMalformedRequest) as deleted:
        org.admin.OpportunityHistory.create({"OpportunityId": org.opportunity})
    assert deleted.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    result = org.admin.restful(f"composite/sobjects?ids={row}", method="DELETE")
    assert result[0]["success"] is False
    assert result[0]["errors"][0]["statusCode"] == "INVALID_TYPE_FOR_OPERATION"
    assert len(org.history("MAP_Milestone__History", milestone)) == 1


def test_describe_lists_history_objects_as_read_only(org: Actors) -> None:
    listed = {o["name"]: o for o in org.admin.describe()["sobjects"]}
    for name in ("MAP_Milestone__History", "Mutual_Action_Plan__History",
                 "OpportunityFieldHistory", "OpportunityHistory"):
        assert listed[name]["queryable"] is True
        assert (listed[name]["createable"], listed[name]["updateable"],
                listed[name]["deletable"]) == (False, False, False)
    assert listed["OpportunityHistory"]["keyPrefix"] == "008"
    fields = {f["name"]: f for f in org.admin.MAP_Milestone__History.describe()["fields"]}
    assert set(fields) == {"Id", "IsDeleted", "ParentId", "CreatedById", "CreatedDate", "Field",
                           "DataType", "OldValue", "NewValue"}
    assert (fields["OldValue"]["type"], fields["OldValue"]["filterable"],
            fields["OldValue"]["sortable"]) == ("anyType", False, False)
    assert fields["ParentId"]["referenceTo"] == ["MAP_Milestone__c"]


@pytest.mark.parametrize("soql", [
    "SELECT Id FROM MAP_Milestone__History WHERE OldValue = 'Done'",
    "SELECT Id FROM MAP_Milestone__History WHERE NewValue != null",
    "SELECT Id FROM OpportunityFieldHistory WHERE NewValue LIKE 'Closed%'",
])
def test_filtering_on_old_or_new_value_is_refused(org: Actors, soql: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        org.admin.query(soql)
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "can not be filtered in a query call" in refused.value.content[0]["message"]


def test_sorting_on_old_or_new_value_is_refused(org: Actors) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        org.admin.query("SELECT Id FROM MAP_Milestone__History ORDER BY NewValue")
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "can not be sorted in a query call" in refused.value.content[0]["message"]


def test_opportunity_history_row_on_stage_change_by_rep(org: Actors) -> None:
    org.rep.Opportunity.update(org.opportunity, {"StageName": "Closed Won"})
    columns = ("OpportunityId, StageName, Amount, CloseDate, Probability, ForecastCategory, "
               "ExpectedRevenue, PrevAmount, CreatedById, CreatedDate, SystemModstamp")
    rows = org.history("OpportunityHistory", org.opportunity, "OpportunityId", columns)
    assert [(r["StageName"], r["Probability"], r["ForecastCategory"], r["ExpectedRevenue"],
             r["CreatedById"]) for r in rows] == [
        ("Needs Analysis", 20.0, "Pipeline", 10000.0, org.rep_id),
        ("Closed Won", 100.0, "Closed", 50000.0, org.rep_id)]
    assert rows[1]["Amount"] == 50000.0
    assert rows[1]["PrevAmount"] == 50000.0
    assert rows[1]["CreatedDate"] == rows[1]["SystemModstamp"]
    field_rows = org.history("OpportunityFieldHistory", org.opportunity, "OpportunityId",
                             "OpportunityId, Field, OldValue, NewValue")
    assert changes(field_rows) == [("created", None, None),
                                   ("StageName", "Needs Analysis", "Closed Won")]


def test_opportunity_history_ignores_other_fields_and_unchanged_saves(org: Actors) -> None:
    org.rep.Opportunity.update(org.opportunity, {"NextStep": "call", "Amount": 50000})
    rows = org.history("OpportunityHistory", org.opportunity, "OpportunityId",
                       "OpportunityId, StageName")
    assert len(rows) == 1  # the create only
    org.admin.Opportunity.update(org.opportunity, {"CloseDate": "2026-07-31"})
    rows = org.history("OpportunityHistory", org.opportunity, "OpportunityId",
                       "CloseDate, PrevCloseDate, CreatedById")
    assert [(r["CloseDate"], r["PrevCloseDate"], r["CreatedById"]) for r in rows[1:]] == [
        ("2026-07-31", "2026-06-30", org.admin_id)]


def test_history_rows_roll_back_with_a_failed_all_or_none_request(org: Actors) -> None:
    milestone = org.milestone()
    result = org.rep.restful("composite/sobjects", method="PATCH", data=json.dumps({
        "allOrNone": True, "records": [
            {"attributes": {"type": "MAP_Milestone__c"}, "Id": milestone, "Status__c": "Done"},
            {"attributes": {"type": "MAP_Milestone__c"}, "Id": milestone,
             "Status__c": "Nonsense"}]}))
    assert [r["success"] for r in result] == [False, False]
    org.rep.MAP_Milestone__c.update(milestone, {"Due_Date__c": "2026-05-15"})
    assert [r["Field"] for r in org.history("MAP_Milestone__History", milestone)] == [
        "created", "Due_Date__c"]


def test_history_rows_commit_with_composite_subrequests(org: Actors) -> None:
    milestone = org.milestone()
    base = "/services/data/v59.0"
    answer = org.rep.restful("composite", method="POST", data=json.dumps({
        "allOrNone": True, "compositeRequest": [
            {"method": "PATCH", "url": f"{base}/sobjects/MAP_Milestone__c/{milestone}",
             "referenceId": "edit", "body": {"Status__c": "Blocked"}},
            {"method": "GET", "referenceId": "history",
             "url": f"{base}/query?q=SELECT+Field,NewValue,CreatedById+FROM+"
                    f"MAP_Milestone__History+WHERE+ParentId='{milestone}'+ORDER+BY+Id"}]}))
    records = answer["compositeResponse"][1]["body"]["records"]
    assert [(r["Field"], r["NewValue"], r["CreatedById"]) for r in records] == [
        ("created", None, org.admin_id), ("Status__c", "Blocked", org.rep_id)]


def test_history_rows_commit_with_bulk_ingest(org: Actors, emulator: Any) -> None:
    milestones = [org.milestone(Name=f"M{i}") for i in range(3)]
    csv = "Id,Status__c\n" + "".join(f"{m},Done\n" for m in milestones[:2]) + \
        f"{milestones[2]},Nonsense\n"
    job = bulk_as(emulator, org.rep_id).ingest("MAP_Milestone__c", "update", csv)
    assert (job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (3, 1)
    done = org.admin.query_all(
        "SELECT ParentId, CreatedById FROM MAP_Milestone__History WHERE Field = 'Status__c'")
    assert sorted((r["ParentId"], r["CreatedById"]) for r in done["records"]) == sorted(
        (m, org.rep_id) for m in milestones[:2])


def test_history_in_bulk_query(org: Actors, emulator: Any) -> None:
    milestone = org.milestone()
    org.rep.MAP_Milestone__c.update(milestone, {"Status__c": "Done", "Sequence__c": 2})
    org.rep.Opportunity.update(org.opportunity, {"Amount": 60000})
    lines = run_query_job(emulator, f"SELECT ParentId, Field, OldValue, NewValue, CreatedById "
                                    f"FROM MAP_Milestone__History WHERE ParentId = "
                                    f"'{milestone}' ORDER BY CreatedDate, Id")
    assert lines == [
        '"ParentId","Field","OldValue","NewValue","CreatedById"',
        f'"{milestone}","created","","","{org.admin_id}"',
        f'"{milestone}","Status__c","Not Started","Done","{org.rep_id}"',
    ]
    amounts = run_query_job(emulator, "SELECT Field, OldValue, NewValue FROM "
                                      "OpportunityFieldHistory WHERE Field = 'Amount'")
    assert amounts[1:] == ['"Amount","50000.0","60000.0"']


def test_history_pages_through_query_locators(org: Actors, emulator: Any) -> None:
    milestone = org.milestone()
    for n in range(1, 251):
        org.admin.MAP_Milestone__c.update(milestone, {"Sequence__c": n, "Due_Date__c":
                                                      f"2026-{1 + n % 12:02d}-01"})
    session = client_session(emulator)
    headers = {"Authorization": "Bearer " + emulator.access_token(),
               "Sforce-Query-Options": "batchSize=200"}
    url = (emulator.instance_url + "/services/data/v59.0/queryAll?q=SELECT+Id,Field+FROM+"
           f"MAP_Milestone__History+WHERE+ParentId='{milestone}'")
    first = session.get(url, headers=headers).json()
    assert first["done"] is False
    assert len(first["records"]) == 200
    rest = session.get(emulator.instance_url + first["nextRecordsUrl"], headers=headers).json()
    assert first["totalSize"] == 1 + len(rest["records"]) + 199
    assert rest["done"] is True


def test_every_api_response_carries_the_server_date(org: Actors, emulator: Any) -> None:
    from email.utils import parsedate_to_datetime

    session = client_session(emulator)
    before = datetime.now(UTC).replace(microsecond=0)
    ok = session.get(emulator.instance_url + "/services/data/v59.0/limits",
                     headers={"Authorization": "Bearer " + emulator.access_token()})
    refused = session.get(emulator.instance_url + "/services/data/v59.0/limits")
    listing = session.get(emulator.instance_url + "/services/data")
    after = datetime.now(UTC)
    for response in (ok, refused, listing):
        assert len(response.raw.headers.getlist("Date")) == 1
        stamped = parsedate_to_datetime(response.headers["Date"])
        assert before <= stamped <= after
        assert response.headers["Date"].endswith(" GMT")


def test_deleted_record_takes_its_history_to_the_recycle_bin(org: Actors) -> None:
    milestone = org.milestone()
    org.rep.MAP_Milestone__c.update(milestone, {"Status__c": "Done"})
    org.rep.MAP_Milestone__c.delete(milestone)
    live = org.admin.query(f"SELECT Id FROM MAP_Milestone__History WHERE ParentId = "
                           f"'{milestone}'")["records"]
    binned = org.history("MAP_Milestone__History", milestone, columns="Field, IsDeleted",
                         include_deleted=True)
    assert live == []
    assert [(r["Field"], r["IsDeleted"]) for r in binned] == [
        ("created", True), ("Status__c", True)]


@pytest.mark.parametrize("soql", [
    "SELECT ParentId, Field, OldValue, NewValue, CreatedById, CreatedDate "
    "FROM MAP_Milestone__History WHERE CreatedDate >= 2024-01-01T00:00:00Z "
    "AND CreatedById != '005000000000001AAA' ORDER BY CreatedDate, Id",
    "SELECT OpportunityId, StageName, CloseDate, Amount, CreatedById, CreatedDate "
    "FROM OpportunityHistory WHERE CreatedDate > LAST_N_DAYS:7 "
    "AND CreatedById != '005000000000001AAA' ORDER BY OpportunityId, CreatedDate DESC",
    "SELECT Id, Parent.Name, Parent.Plan__r.External_Id__c, CreatedBy.Name "
    "FROM MAP_Milestone__History WHERE Parent.Plan__c != null",
    "SELECT COUNT() FROM OpportunityFieldHistory WHERE Field = 'StageName'",
])
def test_history_queries_run_with_their_real_field_names(org: Actors, soql: str) -> None:
    org.milestone()
    assert org.admin.query(soql)["done"] is True


def test_history_of_unknown_field_names_is_refused(org: Actors) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        org.admin.query("SELECT Id, FieldName FROM MAP_Milestone__History")
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_field_history_is_not_replicated_but_stage_history_is(org: Actors,
                                                              emulator: Any) -> None:
    session = client_session(emulator)
    headers = {"Authorization": "Bearer " + emulator.access_token()}
    base = emulator.instance_url + "/services/data/v59.0/sobjects/"
    start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = f"?start={start}&end={end}"
    refused = session.get(base + "MAP_Milestone__History/updated/" + window, headers=headers)
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_TYPE"
    stages = session.get(base + "OpportunityHistory/updated/" + window, headers=headers).json()
    assert len(stages["ids"]) == 1
    assert stages["ids"][0].startswith("008")
