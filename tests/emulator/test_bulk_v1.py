"""Bulk API 1.0 on the local org: raw calls for shapes and errors, simple-salesforce's
``sf.bulk`` for the flows a client runs."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
import requests
from defusedxml import ElementTree as ET

from connectors.emulator.pytest_plugin import client_session, salesforce_client
from connectors.emulator.server import Emulator

VERSION = "59.0"
NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


class V1:
    """A session aimed at ``/services/async/59.0``, logged in through ``X-SFDC-Session``."""

    def __init__(self, org: Emulator, token: str | None = None) -> None:
        self.session = client_session(org)
        self.session.headers["X-SFDC-Session"] = token or org.access_token()
        self.base = f"{org.instance_url}/services/async/{VERSION}"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}/{path}", timeout=30, **kw)

    def xml(self, method: str, path: str, body: str = "", status: int = 200,
            content: str = "application/xml; charset=UTF-8") -> dict[str, str]:
        r = self.call(method, path, data=body.encode(), headers={"Content-Type": content})
        assert r.status_code == status, r.text
        return {child.tag.removeprefix(NS): child.text or "" for child in ET.fromstring(r.text)}

    def wait(self, job_id: str, batch_id: str) -> dict[str, str]:
        deadline = time.monotonic() + 30
        while True:
            info = self.xml("GET", f"job/{job_id}/batch/{batch_id}")
            if info["state"] in ("Completed", "Failed", "Not Processed"):
                return info
            assert time.monotonic() < deadline, info
            time.sleep(0.02)


def job_xml(operation: str, sobject: str, content: str = "CSV", extra: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS[1:-1]}">'
            f"<operation>{operation}</operation><object>{sobject}</object>{extra}"
            f"<contentType>{content}</contentType></jobInfo>")


def test_bulk_v1_query_job_csv_results_match_soql(demo_org: Emulator) -> None:
    v1 = V1(demo_org)
    soql = "SELECT Id, Name, StageName, Amount FROM Opportunity"
    job = v1.xml("POST", "job", job_xml("query", "Opportunity"), status=201)
    assert (job["state"], job["contentType"], job["apiVersion"]) == ("Open", "CSV", "59.0")
    batch = v1.xml("POST", f"job/{job['id']}/batch", soql, status=201, content="text/csv")
    assert batch["jobId"] == job["id"]
    assert v1.xml("POST", f"job/{job['id']}", "<jobInfo xmlns='http://www.force.com/2009/06/"
                  "asyncapi/dataload'><state>Closed</state></jobInfo>")["state"] == "Closed"
    assert v1.wait(job["id"], batch["id"])["state"] == "Completed"
    listing = v1.call("GET", f"job/{job['id']}/batch/{batch['id']}/result")
    result_ids = [r.text for r in ET.fromstring(listing.text)]
    assert len(result_ids) == 1
    data = v1.call("GET", f"job/{job['id']}/batch/{batch['id']}/result/{result_ids[0]}")
    assert data.headers["Content-Type"].startswith("text/csv")
    assert data.text.startswith('"Id","Name","StageName","Amount"')
    rows = {r["Id"]: r for r in csv.DictReader(io.StringIO(data.text))}
    rest = salesforce_client(demo_org).query_all(soql)["records"]  # type: ignore[attr-defined]
    assert {r["Id"]: (r["Name"], r["StageName"]) for r in rest} == {
        i: (r["Name"], r["StageName"]) for i, r in rows.items()}


def test_bulk_v1_json_query_gives_dates_as_epoch_milliseconds(demo_org: Emulator) -> None:
    sf: Any = salesforce_client(demo_org)
    records = sf.bulk.Opportunity.query(
        "SELECT Id, CloseDate, SystemModstamp, Account.Name FROM Opportunity", wait=0)
    rest = {r["Id"]: r for r in sf.query_all(
        "SELECT Id, CloseDate, Account.Name FROM Opportunity")["records"]}
    assert len(records) == len(rest) == 50
    for record in records:
        day = time.strftime("%Y-%m-%d", time.gmtime(record["CloseDate"] / 1000))
        assert day == rest[record["Id"]]["CloseDate"]
        assert isinstance(record["SystemModstamp"], int)
        assert record["Account"]["Name"] == rest[record["Id"]]["Account"]["Name"]


def test_bulk_v1_ingest_insert_update_upsert_delete_through_simple_salesforce(
        emulator: Emulator) -> None:
    sf: Any = salesforce_client(emulator)
    inserted = sf.bulk.Account.insert([{"Name": "Acme"}, {"Name": "Globex"}, {"Website": "x"}],
                                      batch_size=2)
    assert [r["success"] for r in inserted] == [True, True, False]
    assert inserted[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    acme, globex = inserted[0]["id"], inserted[1]["id"]
    assert sf.bulk.Account.update([{"Id": acme, "Name": "Acme Corp"}])[0]["success"]
    upserted = sf.bulk.Account.upsert([{"Id": globex, "Website": None}], "Id")
    assert (upserted[0]["success"], upserted[0]["created"]) == (True, False)
    assert sf.bulk.Account.delete([{"Id": globex}])[0]["success"]
    names = [r["Name"] for r in sf.query_all("SELECT Name FROM Account")["records"]]
    assert names == ["Acme Corp"]


def test_bulk_v1_csv_ingest_results_name_each_row(emulator: Emulator) -> None:
    v1 = V1(emulator)
    job = v1.xml("POST", "job", job_xml("insert", "Account"), status=201)
    batch = v1.xml("POST", f"job/{job['id']}/batch", "Name,Website\nAcme,\n,nope.example\n",
                   status=201, content="text/csv")
    v1.xml("POST", f"job/{job['id']}", f"<jobInfo xmlns='{NS[1:-1]}'><state>Closed</state>"
           "</jobInfo>")
    info = v1.wait(job["id"], batch["id"])
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("2", "1")
    r = v1.call("GET", f"job/{job['id']}/batch/{batch['id']}/result")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["Success"], row["Created"]) for row in rows] == [("true", "true"),
                                                                  ("false", "false")]
    assert rows[1]["Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert v1.xml("GET", f"job/{job['id']}")["numberBatchesCompleted"] == "1"


@pytest.mark.parametrize("content", ["application/xml", "application/json"])
def test_bulk_v1_without_a_valid_session_is_invalid_session_id(
        emulator: Emulator, content: str) -> None:
    r = V1(emulator, token="00Dbogus!AQ").call(
        "POST", "job", data=job_xml("query", "Account"), headers={"Content-Type": content})
    assert r.status_code == 400
    if content == "application/json":
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["exceptionCode"] == "InvalidSessionId"
    else:
        assert "<exceptionCode>InvalidSessionId</exceptionCode>" in r.text
    assert emulator.api_calls == 0


def test_bulk_v1_batch_on_a_closed_job_is_invalid_job_state(emulator: Emulator) -> None:
    v1 = V1(emulator)
    job = v1.xml("POST", "job", job_xml("insert", "Account"), status=201)
    v1.xml("POST", f"job/{job['id']}", f"<jobInfo xmlns='{NS[1:-1]}'><state>Closed</state>"
           "</jobInfo>")
    refused = v1.xml("POST", f"job/{job['id']}/batch", "Name\nAcme\n", status=400,
                     content="text/csv")
    assert refused["exceptionCode"] == "InvalidJobState"
    unknown = v1.xml("GET", "job/7508d000000zzzzAAA", status=400)
    assert unknown["exceptionCode"] == "InvalidJob"


def test_bulk_v1_malformed_query_fails_its_batch_with_invalid_batch(emulator: Emulator) -> None:
    v1 = V1(emulator)
    job = v1.xml("POST", "job", job_xml("query", "Account"), status=201)
    batch = v1.xml("POST", f"job/{job['id']}/batch", "SELECT Nope__c FROM Account",
                   status=201, content="text/csv")
    info = v1.wait(job["id"], batch["id"])
    assert info["state"] == "Failed"
    assert info["stateMessage"].startswith("InvalidBatch : Failed to process query: "
                                           "INVALID_FIELD")


def test_bulk_v1_json_job_answers_json_and_counts_every_request(emulator: Emulator) -> None:
    v1 = V1(emulator)
    headers = {"Content-Type": "application/json"}
    created = v1.call("POST", "job", json={"operation": "query", "object": "User",
                                           "contentType": "JSON"}, headers=headers)
    assert created.status_code == 201
    job = created.json()
    assert (job["contentType"], job["apiVersion"]) == ("JSON", 59.0)
    batch = v1.call("POST", f"job/{job['id']}/batch", data=b"SELECT Id FROM User",
                    headers=headers).json()
    assert batch["state"] in ("Queued", "InProgress", "Completed")
    assert emulator.api_calls == 2


def test_bulk_v1_aborted_job_refuses_batches_and_still_lists_its_own(emulator: Emulator) -> None:
    v1 = V1(emulator)
    job = v1.xml("POST", "job", job_xml("upsert", "Account", extra="<externalIdFieldName>Id"
                                        "</externalIdFieldName>"), status=201)
    assert job["externalIdFieldName"] == "Id"
    batch = v1.xml("POST", f"job/{job['id']}/batch", "Id,Name\n,Acme\n", status=201,
                   content="text/csv")
    aborted = v1.xml("POST", f"job/{job['id']}", f"<jobInfo xmlns='{NS[1:-1]}'><state>Aborted"
                     "</state></jobInfo>")
    assert aborted["state"] == "Aborted"
    refused = v1.xml("POST", f"job/{job['id']}/batch", "Id,Name\n,Globex\n", status=400,
                     content="text/csv")
    assert refused["exceptionCode"] == "InvalidJobState"
    listing = v1.call("GET", f"job/{job['id']}/batch")
    assert [info.find(f"{NS}id").text for info in ET.fromstring(listing.text)] == [batch["id"]]
    again = v1.xml("POST", f"job/{job['id']}", f"<jobInfo xmlns='{NS[1:-1]}'><state>Closed"
                   "</state></jobInfo>", status=400)
    assert again["exceptionCode"] == "InvalidJobState"


def test_bulk_v1_job_of_another_user_is_invalid_user(demo_org: Emulator) -> None:
    job = V1(demo_org).xml("POST", "job", job_xml("query", "Account"), status=201)
    rep = demo_org.org.user_by_username("maya.chen@northwind.example")
    assert rep is not None
    other = V1(demo_org, token=demo_org.access_token(str(rep["Id"])))
    assert other.xml("GET", f"job/{job['id']}", status=400)["exceptionCode"] == "InvalidUser"
