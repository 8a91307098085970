"""Bulk API 2.0 ingest jobs in the local org, through simple-salesforce and raw HTTP.

The org must answer as Salesforce does: the job JSON clients poll, CSV results with
``sf__Id``/``sf__Created``/``sf__Error``, the same validation and error codes as REST writes,
and one API call per Bulk request.
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceOperationError

from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from connectors.salesforce.bulk import MAX_UPLOAD_BYTES
from tests.emulator.bulk_support import rows_of


def _opportunity(org: Emulator, name: str = "Bulk Deal") -> str:
    sf: Any = salesforce_client(org)
    account = sf.Account.create({"Name": f"{name} Account"})["id"]
    return str(sf.Opportunity.create({"Name": name, "AccountId": account,
                                      "StageName": "Prospecting",
                                      "CloseDate": "2027-03-31"})["id"])


def test_insert_through_simple_salesforce_reports_created_ids_and_failed_rows(emulator):
    sf: Any = salesforce_client(emulator)
    records = [{"Name": "Bulk One", "NumberOfEmployees": "10"},
               {"Name": "", "NumberOfEmployees": "20"},
               {"Name": "Bulk Three", "NumberOfEmployees": "many"}]
    [summary] = sf.bulk2.Account.insert(records=records, wait=0.1)
    assert summary["numberRecordsProcessed"] == 3
    assert summary["numberRecordsFailed"] == 2
    ok = rows_of(sf.bulk2.Account.get_successful_records(summary["job_id"]))
    assert [(r["sf__Created"], r["Name"]) for r in ok] == [("true", "Bulk One")]
    assert sf.Account.get(ok[0]["sf__Id"])["NumberOfEmployees"] == 10
    failed = {r["NumberOfEmployees"]: r for r in
              rows_of(sf.bulk2.Account.get_failed_records(summary["job_id"]))}
    assert failed["20"]["sf__Error"] == \
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    assert failed["20"]["sf__Id"] == ""
    assert failed["many"]["sf__Error"].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD:")
    assert rows_of(sf.bulk2.Account.get_unprocessed_records(summary["job_id"])) == []


def test_update_leaves_empty_cells_alone_and_sets_na_cells_to_null(emulator, bulk):
    sf: Any = salesforce_client(emulator)
    acc = sf.Account.create({"Name": "Keep Me", "Industry": "Energy", "Phone": "555"})["id"]
    job = bulk.ingest("Account", "update", f"Id,Name,Industry,Phone\n{acc},,Media,#N/A\n")
    assert (job["state"], job["numberRecordsProcessed"], job["numberRecordsFailed"]) == \
        ("JobComplete", 1, 0)
    record = sf.Account.get(acc)
    assert (record["Name"], record["Industry"], record["Phone"]) == ("Keep Me", "Media", None)
    [ok] = bulk.results(job["id"], "successfulResults")
    assert ok["sf__Id"] == acc
    assert ok["sf__Created"] == "false"


def test_update_of_an_unknown_id_fails_that_row_only(emulator, bulk):
    sf: Any = salesforce_client(emulator)
    acc = sf.Account.create({"Name": "Real"})["id"]
    ghost = acc[:-6] + "zzzAAA"
    job = bulk.ingest("Account", "update", f"Id,Name\n{acc},Renamed\n{ghost},Nobody\n")
    assert job["numberRecordsFailed"] == 1
    [bad] = bulk.results(job["id"], "failedResults")
    assert bad["Name"] == "Nobody"
    assert bad["sf__Error"].startswith("NOT_FOUND:")
    assert sf.Account.get(acc)["Name"] == "Renamed"


def test_upsert_by_external_id_creates_then_updates_the_same_record(emulator):
    sf: Any = salesforce_client(emulator)
    opp = _opportunity(emulator)
    rows = [{"External_Id__c": opp, "Name": "Plan", "Opportunity__c": opp,
             "Health__c": "On Track"}]
    [first] = sf.bulk2.Mutual_Action_Plan__c.upsert(records=rows,
                                                    external_id_field="External_Id__c", wait=0.1)
    rows[0]["Health__c"] = "At Risk"
    [second] = sf.bulk2.Mutual_Action_Plan__c.upsert(records=rows,
                                                     external_id_field="External_Id__c", wait=0.1)
    created = rows_of(sf.bulk2.Mutual_Action_Plan__c.get_successful_records(first["job_id"]))
    updated = rows_of(sf.bulk2.Mutual_Action_Plan__c.get_successful_records(second["job_id"]))
    assert created[0]["sf__Created"] == "true"
    assert updated[0]["sf__Created"] == "false"
    assert created[0]["sf__Id"] == updated[0]["sf__Id"]
    plans = sf.query("SELECT Id, Health__c FROM Mutual_Action_Plan__c")["records"]
    assert [(p["Id"], p["Health__c"]) for p in plans] == [(created[0]["sf__Id"], "At Risk")]


def test_upsert_rows_name_their_parent_by_its_external_id(emulator, bulk):
    opp = _opportunity(emulator)
    plan = bulk.ingest("Mutual_Action_Plan__c", "upsert",
                       f"External_Id__c,Name,Opportunity__c\n{opp},Plan,{opp}\n",
                       externalIdFieldName="External_Id__c")
    assert plan["numberRecordsFailed"] == 0
    job = bulk.ingest("MAP_Milestone__c", "upsert",
                      "External_Id__c,Name,Plan__r.External_Id__c\n"
                      f"{opp}:kickoff,Kickoff,{opp}\n"
                      f"{opp}:legal,Legal review,NO-SUCH-PLAN\n",
                      externalIdFieldName="External_Id__c")
    [ok] = bulk.results(job["id"], "successfulResults")
    [bad] = bulk.results(job["id"], "failedResults")
    assert ok["Name"] == "Kickoff"
    assert bad["sf__Error"] == ("INVALID_FIELD:Foreign key external ID: NO-SUCH-PLAN not found "
                                "for field External_Id__c in entity Mutual_Action_Plan__c:--")
    sf: Any = salesforce_client(emulator)
    [milestone] = sf.query("SELECT Name, Plan__r.External_Id__c FROM MAP_Milestone__c")["records"]
    assert milestone["Plan__r"]["External_Id__c"] == opp


def test_a_parent_named_by_a_field_that_is_not_an_external_id_fails_the_whole_job(
        emulator, bulk):
    opp = _opportunity(emulator)
    bulk.ingest("Mutual_Action_Plan__c", "upsert",
                f"External_Id__c,Name,Opportunity__c,Template__c\n{opp},Plan,{opp},saas\n",
                externalIdFieldName="External_Id__c")
    job = bulk.ingest("MAP_Milestone__c", "upsert",
                      "External_Id__c,Name,Plan__r.Template__c\n"
                      f"{opp}:kickoff,Kickoff,saas\n",
                      externalIdFieldName="External_Id__c")
    assert job["state"] == "Failed"
    assert job["errorMessage"] == "InvalidBatch : Field name not found : Plan__r.Template__c"
    assert job["numberRecordsProcessed"] == 0


def test_one_external_id_twice_in_a_job_fails_both_rows(emulator, bulk):
    opp = _opportunity(emulator)
    job = bulk.ingest("Mutual_Action_Plan__c", "upsert",
                      f"External_Id__c,Name,Opportunity__c\n{opp},P,{opp}\n"
                      f"{opp.lower()},P,{opp}\n",
                      externalIdFieldName="External_Id__c")
    errors = [r["sf__Error"] for r in bulk.results(job["id"], "failedResults")]
    assert errors == [f"DUPLICATE_EXTERNAL_ID:Duplicate external id specified: {opp}:"
                      "External_Id__c --",
                      f"DUPLICATE_EXTERNAL_ID:Duplicate external id specified: {opp.lower()}:"
                      "External_Id__c --"]


def test_delete_job_soft_deletes_so_only_query_all_sees_the_rows(emulator, bulk):
    sf: Any = salesforce_client(emulator)
    ids = [sf.Account.create({"Name": f"Doomed {n}"})["id"] for n in range(3)]
    [summary] = sf.bulk2.Account.delete(records=[{"Id": i} for i in ids[:2]], wait=0.1)
    assert (summary["numberRecordsProcessed"], summary["numberRecordsFailed"]) == (2, 0)
    live = sf.query("SELECT Id FROM Account")["records"]
    assert [r["Id"] for r in live] == ids[2:]
    every = sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)["records"]
    assert sorted((r["Id"], r["IsDeleted"]) for r in every) == \
        sorted([(ids[0], True), (ids[1], True), (ids[2], False)])
    again = bulk.ingest("Account", "delete", f"Id\n{ids[0]}\n")
    [bad] = bulk.results(again["id"], "failedResults")
    assert bad["sf__Error"] == "ENTITY_IS_DELETED:entity is deleted:--"


def test_a_header_naming_an_unknown_field_fails_the_whole_job(bulk):
    job = bulk.ingest("Account", "insert", "Name,Colour__c\nAcme,blue\n")
    assert job["state"] == "Failed"
    assert job["errorMessage"] == "InvalidBatch : Field name not found : Colour__c"
    assert job["numberRecordsProcessed"] == 0


def test_simple_salesforce_raises_on_a_failed_job(emulator):
    sf: Any = salesforce_client(emulator)
    with pytest.raises(SalesforceOperationError, match="Field name not found"):
        sf.bulk2.Account.insert(records=[{"Nope__c": "x"}], wait=0.1)


def test_job_json_has_salesforce_shape_through_its_life(emulator, bulk):
    job = bulk.create_ingest("Account", "insert")
    assert set(job) >= {"id", "operation", "object", "createdById", "createdDate",
                        "systemModstamp", "state", "concurrencyMode", "contentType",
                        "apiVersion", "contentUrl", "lineEnding", "columnDelimiter"}
    assert job["id"].startswith("750")
    assert len(job["id"]) == 18
    assert (job["state"], job["object"], job["operation"], job["apiVersion"]) == \
        ("Open", "Account", "insert", 59.0)
    assert job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"
    assert job["createdById"] == emulator.org.integration_user_id
    put = bulk.call("PUT", f"ingest/{job['id']}/batches", data=b"Name\nA\nB\n",
                    headers={"Content-Type": "text/csv"})
    assert (put.status_code, put.text) == (201, "")
    again = bulk.call("PUT", f"ingest/{job['id']}/batches", data=b"Name\nC\n",
                      headers={"Content-Type": "text/csv"})
    assert again.status_code == 400
    assert "Found multiple contents" in again.json()[0]["message"]
    closed = bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    done = bulk.wait("ingest", job["id"])
    assert (done["jobType"], done["numberRecordsProcessed"], done["numberRecordsFailed"]) == \
        ("V2Ingest", 2, 0)
    listed = bulk.call("GET", "ingest").json()
    assert listed["done"] is True
    assert job["id"] in [j["id"] for j in listed["records"]]
    twice = bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
    assert twice.status_code == 400
    assert twice.json()[0]["errorCode"] == "INVALIDJOB"
    assert bulk.call("DELETE", f"ingest/{job['id']}").status_code == 204
    gone = bulk.call("GET", f"ingest/{job['id']}")
    assert gone.status_code == 404
    assert gone.json() == [{"message": "The requested resource does not exist",
                            "errorCode": "NOT_FOUND"}]


def test_aborted_job_writes_nothing_and_returns_its_rows_as_unprocessed(emulator, bulk):
    job = bulk.create_ingest("Account", "insert")
    bulk.call("PUT", f"ingest/{job['id']}/batches", data=b"Name\nNever Written\n",
              headers={"Content-Type": "text/csv"})
    aborted = bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    assert bulk.results(job["id"], "unprocessedrecords") == [{"Name": "Never Written"}]
    assert emulator.org.store.count(emulator.org.schema.objects["Account"]) == 0
    closing = bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
    assert closing.status_code == 400
    assert closing.json()[0]["errorCode"] == "INVALIDJOB"


@pytest.mark.parametrize(("body", "message"), [
    ({"object": "Nope__c", "operation": "insert"}, "Unable to find object: Nope__c"),
    ({"object": "Account", "operation": "merge"}, "Invalid operation: merge"),
    ({"object": "Account", "operation": "upsert"}, "External ID field name is required"),
    ({"object": "Account", "operation": "upsert", "externalIdFieldName": "Industry"},
     "Industry is not an External ID"),
    ({"object": "Account", "operation": "insert", "contentType": "JSON"}, "contentType JSON"),
])
def test_bad_job_requests_are_refused_as_invalidjob(bulk, body, message):
    r = bulk.call("POST", "ingest", json=body)
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALIDJOB"
    assert message in r.json()[0]["message"]


def test_every_bulk_request_is_one_api_call(emulator, bulk):
    before = emulator.api_calls
    job = bulk.create_ingest("Account", "insert")
    bulk.call("PUT", f"ingest/{job['id']}/batches", data=b"Name\nCounted\n",
              headers={"Content-Type": "text/csv"})
    bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
    assert emulator.api_calls - before == 3
    bulk.wait("ingest", job["id"])
    polled = emulator.api_calls
    bulk.results(job["id"], "successfulResults")
    bulk.results(job["id"], "failedResults")
    assert emulator.api_calls - polled == 2
    assert bulk.call("GET", f"ingest/{job['id']}").headers["Sforce-Limit-Info"] == \
        f"api-usage={polled + 3}/100000"


def test_a_spent_daily_quota_refuses_bulk_requests_too(emulator, bulk):
    emulator.set_knobs(daily_api_limit=1)
    bulk.create_ingest("Account", "insert")
    refused = bulk.call("POST", "ingest", json={"object": "Account", "operation": "insert"})
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.parametrize(("sobject", "record"), [
    ("Account", {"Name": "x" * 300}),
    ("Account", {"Name": "Fractional Staff", "NumberOfEmployees": "1.5"}),
    ("Opportunity", {"Name": "No Stage", "CloseDate": "2027-01-01"}),
    ("Opportunity", {"Name": "Odd Stage", "StageName": "Dreaming", "CloseDate": "2027-01-01"}),
    ("Opportunity", {"Name": "Ghost", "StageName": "Prospecting", "CloseDate": "2027-01-01",
                     "AccountId": "0018d00000zzzzzAAA"}),
    ("Contact", {"LastName": "Mailer", "Email": "not-an-address"}),
])
def test_a_bulk_row_fails_with_the_error_a_collections_write_gets(emulator, bulk, sobject,
                                                                  record):
    sf: Any = salesforce_client(emulator)
    rest = sf.restful("composite/sobjects", method="POST", json={
        "allOrNone": False, "records": [{"attributes": {"type": sobject}, **record}]})[0]
    assert rest["success"] is False
    header = ",".join(record)
    values = ",".join(f'"{v}"' for v in record.values())
    job = bulk.ingest(sobject, "insert", f"{header}\n{values}\n")
    [failed] = bulk.results(job["id"], "failedResults")
    error = rest["errors"][0]
    fields = ",".join(error["fields"])
    assert failed["sf__Error"] == \
        f"{error['statusCode']}:{error['message']}:{fields + ' ' if fields else ''}--"


def test_crlf_lines_and_a_pipe_delimiter_are_read_as_declared(emulator, bulk):
    job = bulk.ingest("Account", "insert", "Name|Industry\r\nPipe, Inc|Energy\r\n",
                      lineEnding="CRLF", columnDelimiter="PIPE")
    assert (job["lineEnding"], job["columnDelimiter"], job["numberRecordsFailed"]) == \
        ("CRLF", "PIPE", 0)
    raw = bulk.call("GET", f"ingest/{job['id']}/successfulResults/").text
    assert raw.startswith('"sf__Id"|"sf__Created"|"Name"|"Industry"\r\n')
    sf: Any = salesforce_client(emulator)
    [acc] = sf.query("SELECT Name, Industry FROM Account")["records"]
    assert (acc["Name"], acc["Industry"]) == ("Pipe, Inc", "Energy")


def test_rows_meet_locked_records_when_the_lock_knob_is_on(emulator, bulk):
    emulator.set_knobs(lock_rate=1.0)
    job = bulk.ingest("Account", "insert", "Name\nLocked Out\n")
    [bad] = bulk.results(job["id"], "failedResults")
    assert bad["sf__Error"].startswith("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access")
    emulator.set_knobs(lock_rate=0.0)
    assert bulk.ingest("Account", "insert", "Name\nLet In\n")["numberRecordsFailed"] == 0


def test_an_upload_over_150_mb_once_base64_encoded_is_refused_and_the_clients_largest_is_not(
        emulator, bulk):
    job = bulk.create_ingest("Account", "insert")
    header = b"Name\n"
    row = b"Upload Limit Account " + b"x" * 78 + b"\n"  # 100 bytes
    # 113 MB of CSV: under 150 MB as sent, over it base64-encoded
    body = header + row * ((113_000_000 - len(header)) // len(row) + 1)
    refused = bulk.call("PUT", f"ingest/{job['id']}/batches", data=body,
                        headers={"Content-Type": "text/csv"})
    assert refused.status_code == 413
    assert refused.json()[0]["errorCode"] == "INVALIDJOB"
    del body
    largest = header + row * ((MAX_UPLOAD_BYTES - len(header)) // len(row))
    assert len(largest) <= MAX_UPLOAD_BYTES
    accepted = bulk.call("PUT", f"ingest/{job['id']}/batches", data=largest,
                         headers={"Content-Type": "text/csv"})
    assert accepted.status_code == 201
    bulk.call("PATCH", f"ingest/{job['id']}", json={"state": "Aborted"})
