"""Bulk API 2.0: one ingest job per upsert, results mapped back by external id; query paging."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
import responses

from config.errors import FatalError, MapsyncError
from connectors.salesforce import SalesforceClient
from connectors.salesforce.bulk import Ingest
from connectors.salesforce.bulk_csv import _parts, parse_bulk_error, to_csv
from tests.connector.conftest import API, Sleeps, add_token

JOB = "7505g00000AbCdEAAV"


def add_ingest_job(sf: responses.RequestsMock, success: str, failed: str, unprocessed: str,
                   polls: int = 1) -> None:
    sf.add(responses.POST, f"{API}/jobs/ingest", json={"id": JOB, "state": "Open"})
    sf.add(responses.PUT, f"{API}/jobs/ingest/{JOB}/batches", status=201)
    sf.add(responses.PATCH, f"{API}/jobs/ingest/{JOB}", json={"id": JOB,
                                                              "state": "UploadComplete"})
    for _ in range(polls - 1):
        sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}", json={"id": JOB, "state": "InProgress"})
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}", json={"id": JOB, "state": "JobComplete"})
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}/successfulResults/", body=success)
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}/failedResults/", body=failed)
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}/unprocessedrecords/", body=unprocessed)


def test_bulk_upsert_runs_one_job_and_maps_every_record_back_by_external_id(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    add_ingest_job(
        sf,
        success='"sf__Id","sf__Created",External_Id__c,Name\n'
                '"a01000000000003AAA","false",P:3,Three\n"a01000000000001AAA","true",P:1,One\n',
        failed='"sf__Id","sf__Error",External_Id__c,Name\n'
               '"","REQUIRED_FIELD_MISSING:Required fields are missing: [Plan__c]:Plan__c --",'
               'P:2,Two\n',
        unprocessed="External_Id__c,Name\nP:4,Four\n", polls=3)
    records = [{"External_Id__c": f"P:{n}", "Name": name}
               for n, name in [(1, "One"), (2, "Two"), (3, "Three"), (4, "Four")]]
    results = client.bulk_upsert("MAP_Milestone__c", "External_Id__c", records)
    assert [(r.external_id, r.outcome, r.id, r.created) for r in results] == [
        ("P:1", "ok", "a01000000000001AAA", True),
        ("P:2", "skippable", None, False),
        ("P:3", "ok", "a01000000000003AAA", False),
        ("P:4", "retryable", None, False)]
    assert results[1].errors[0].code == "REQUIRED_FIELD_MISSING"
    assert results[1].errors[0].fields == ["Plan__c"]
    created = json.loads(sf.calls[1].request.body or b"{}")
    assert created == {"object": "MAP_Milestone__c", "externalIdFieldName": "External_Id__c",
                       "contentType": "CSV", "operation": "upsert", "lineEnding": "LF",
                       "columnDelimiter": "COMMA"}
    assert sf.calls[2].request.headers["Content-Type"] == "text/csv"
    assert json.loads(sf.calls[3].request.body or b"{}") == {"state": "UploadComplete"}
    assert sleeps == [0.5, 1.0, 2.0]  # each wait twice as long as the last
    assert client.usage.calls == 9


def _forty_records_processed_after(sf: responses.RequestsMock, client: SalesforceClient,
                                   processed: tuple[int, ...]) -> None:
    """A job of 40 milestones, polled while ``processed`` records are done, then done."""
    add_token(sf)
    sf.add(responses.POST, f"{API}/jobs/ingest", json={"id": JOB, "state": "Open"})
    sf.add(responses.PUT, f"{API}/jobs/ingest/{JOB}/batches", status=201)
    sf.add(responses.PATCH, f"{API}/jobs/ingest/{JOB}", json={"id": JOB})
    for done in processed:
        sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}", json={
            "id": JOB, "state": "InProgress", "numberRecordsProcessed": done})
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}", json={
        "id": JOB, "state": "JobComplete", "numberRecordsProcessed": 40,
        "numberRecordsFailed": 0})
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}/successfulResults/",
           body='"sf__Id","sf__Created",External_Id__c\n' + "".join(
               f'"a{n}","true",P:{n}\n' for n in range(40)))
    client.bulk_upsert("MAP_Milestone__c", "External_Id__c",
                       [{"External_Id__c": f"P:{n}"} for n in range(40)])


def test_polling_waits_as_long_as_the_rest_of_the_job_should_take_at_its_rate(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    _forty_records_processed_after(sf, client, (0, 10))
    # 0.5 s: nothing processed, so twice as long; at 1.5 s a quarter is done, so the rest
    # should take three times as long again, 4.5 s
    assert sleeps == [0.5, 1.0, 4.5]


def test_a_job_that_slows_is_polled_at_the_rate_it_goes_now_not_its_rate_since_the_start(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    _forty_records_processed_after(sf, client, (0, 10, 20))
    # at 6 s half is done, 10 records in the last 4.5 s: the other 20 take 9 s at that rate
    # (at the rate since the start, 6 s: polled early, and again, as the rest shrinks)
    assert sleeps == [0.5, 1.0, 4.5, 9.0]


def test_a_second_job_of_an_object_first_waits_for_most_of_what_its_size_took_before(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    records = [{"External_Id__c": f"P:{n}"} for n in range(40)]
    for _ in range(2):
        add_ingest_job(sf, success='"sf__Id","sf__Created",External_Id__c\n' + "".join(
            f'"a{n}","true",P:{n}\n' for n in range(40)), failed="", unprocessed="", polls=3)
    client.bulk_upsert("MAP_Milestone__c", "External_Id__c", records)
    # seen done 3.5 s after the close, running at 1.5 s: done, it is taken, after 2.5 s
    assert sleeps == [0.5, 1.0, 2.0]
    client.bulk_upsert("MAP_Milestone__c", "External_Id__c",
                       [{"External_Id__c": f"Q:{n}"} for n in range(80)])
    # twice the records at that pace: 80 % of 5 s first; then, not done yet, twice as long
    # (at most 10 s)
    assert sleeps[3:] == [pytest.approx(4.0), pytest.approx(8.0), pytest.approx(10.0)]


def test_a_first_job_of_an_object_takes_the_pace_of_the_last_job_of_another(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    for _ in range(2):
        add_ingest_job(sf, success='"sf__Id","sf__Created",External_Id__c\n',
                       failed="", unprocessed="", polls=2)
    client.bulk_upsert("Mutual_Action_Plan__c", "External_Id__c",
                       [{"External_Id__c": f"P:{n}"} for n in range(30)])
    assert sleeps == [0.5, 1.0]  # done between 0.5 s and 1.5 s: 1 s, 30 records a second
    client.bulk_upsert("MAP_Milestone__c", "External_Id__c",
                       [{"External_Id__c": f"P:{n}:kickoff"} for n in range(100)])
    # 80 % of 3.33 s, then twice
    assert sleeps[2:] == [pytest.approx(8 / 3), pytest.approx(16 / 3)]


def test_jobs_of_two_objects_are_processed_side_by_side_and_polled_in_the_same_rounds(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    for job in ("750A", "750B"):
        sf.add(responses.POST, f"{API}/jobs/ingest", json={"id": job, "state": "Open"})
        sf.add(responses.PUT, f"{API}/jobs/ingest/{job}/batches", status=201)
        sf.add(responses.PATCH, f"{API}/jobs/ingest/{job}", json={"id": job})
    for job, key in (("750A", "External_Id__c"), ("750B", "Id")):
        sf.add(responses.GET, f"{API}/jobs/ingest/{job}", json={
            "id": job, "state": "JobComplete", "numberRecordsProcessed": 1,
            "numberRecordsFailed": 0})
        sf.add(responses.GET, f"{API}/jobs/ingest/{job}/successfulResults/",
               body=f'"sf__Id","sf__Created",{key}\n"a1","false",X1\n')
    milestones, rollups = client.bulk.write([
        Ingest("MAP_Milestone__c", "External_Id__c", [{"External_Id__c": "X1"}]),
        Ingest("Opportunity", "Id", [{"Id": "X1", "MAP_Health__c": "On Track"}], "update")])
    assert [r.id for r in milestones + rollups] == ["a1", "a1"]
    methods = [(c.request.method, c.request.url.rsplit("/", 1)[-1]) for c in sf.calls[1:]]
    # both jobs are closed before either is polled, and one wait covers both polls: the
    # lead's (of equal sizes the last submitted), then, as it is done, the other's
    assert [m for m, _ in methods[:6]] == ["POST", "PUT", "PATCH", "POST", "PUT", "PATCH"]
    assert methods[6:8] == [("GET", "750B"), ("GET", "750A")]
    assert sleeps == [0.5]


def test_every_record_is_encoded_once_and_parts_split_at_the_upload_limit() -> None:
    records = [{"External_Id__c": f"P:{n}", "Name": "x" * 20} for n in range(10)]
    columns = ["External_Id__c", "Name"]
    whole = to_csv(records, columns).encode()
    row = len(whole.splitlines(keepends=True)[1])
    header = len(whole.splitlines(keepends=True)[0])
    parts = list(_parts(records, columns, header + 4 * row))
    assert [len(p) for p, _ in parts] == [4, 4, 2]
    assert all(len(body) <= header + 4 * row for _, body in parts)
    assert b"".join(body.split(b"\n", 1)[1] for _, body in parts) == whole.split(b"\n", 1)[1]


def test_bulk_csv_writes_null_as_na_and_booleans_in_lowercase() -> None:
    from datetime import date

    text = to_csv([{"External_Id__c": "P:1", "Notes__c": None, "Done__c": True,
                    "Due_Date__c": date(2026, 4, 1), "Name": 'Say "hi", then go'}],
                  ["External_Id__c", "Notes__c", "Done__c", "Due_Date__c", "Name"])
    assert list(csv.reader(io.StringIO(text))) == [
        ["External_Id__c", "Notes__c", "Done__c", "Due_Date__c", "Name"],
        ["P:1", "#N/A", "true", "2026-04-01", 'Say "hi", then go']]


def test_bulk_error_text_is_split_into_code_message_and_fields() -> None:
    error = parse_bulk_error("FIELD_CUSTOM_VALIDATION_EXCEPTION:Due date too early:"
                             "Due_Date__c,Baseline_Due_Date__c --")
    assert (error.code, error.message, error.fields) == (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Due date too early",
        ["Due_Date__c", "Baseline_Due_Date__c"])
    assert parse_bulk_error("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this "
                            "record or 1 records: a01000000000001AAA:--").code == (
        "UNABLE_TO_LOCK_ROW")


def test_a_failed_job_is_fatal_with_salesforce_message(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/jobs/ingest", json={"id": JOB, "state": "Open"})
    sf.add(responses.PUT, f"{API}/jobs/ingest/{JOB}/batches", status=201)
    sf.add(responses.PATCH, f"{API}/jobs/ingest/{JOB}", json={"id": JOB})
    sf.add(responses.GET, f"{API}/jobs/ingest/{JOB}", json={
        "id": JOB, "state": "Failed", "errorMessage": "InvalidBatch : Field name not found"})
    with pytest.raises(FatalError, match="Field name not found"):
        client.bulk_upsert("MAP_Milestone__c", "External_Id__c", [{"External_Id__c": "P:1"}])


def test_bulk_query_pages_results_by_locator(sf: responses.RequestsMock,
                                             client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/jobs/query", json={"id": "750Q", "state": "UploadComplete"})
    sf.add(responses.GET, f"{API}/jobs/query/750Q", json={"id": "750Q", "state": "JobComplete"})
    sf.add(responses.GET, f"{API}/jobs/query/750Q/results",
           body='"Id","Name","Account.Name"\n"0061","Big deal","Acme"\n',
           headers={"Sforce-Locator": "MTAwMDA", "Sforce-NumberOfRecords": "1"},
           match=[responses.matchers.query_param_matcher({"maxRecords": "1000"})])
    sf.add(responses.GET, f"{API}/jobs/query/750Q/results",
           body='"Id","Name","Account.Name"\n"0062","","Acme"\n',
           headers={"Sforce-Locator": "null"},
           match=[responses.matchers.query_param_matcher({"maxRecords": "1000",
                                                          "locator": "MTAwMDA"})])
    rows = list(client.bulk_query("SELECT Id, Name, Account.Name FROM Opportunity",
                                  include_deleted=True, max_records=1000))
    assert rows == [{"Id": "0061", "Name": "Big deal", "Account.Name": "Acme"},
                    {"Id": "0062", "Name": None, "Account.Name": "Acme"}]
    assert json.loads(sf.calls[1].request.body or b"{}")["operation"] == "queryAll"


def test_upsert_auto_switches_to_bulk_above_the_threshold_keeping_input_order(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(sf_bulk_threshold=2)
    add_token(sf)
    add_ingest_job(sf, success='"sf__Id","sf__Created",External_Id__c,Plan\n'
                               '"a1","true",B:1,B\n"a2","true",A:1,A\n"a3","true",B:2,B\n',
                   failed='"sf__Id","sf__Error",External_Id__c,Plan\n',
                   unprocessed="External_Id__c,Plan\n")
    records = [{"External_Id__c": "B:1", "Plan": "B"}, {"External_Id__c": "A:1", "Plan": "A"},
               {"External_Id__c": "B:2", "Plan": "B"}]
    results = client.upsert_auto("MAP_Milestone__c", "External_Id__c", records, group_key="Plan")
    assert [r.external_id for r in results] == ["B:1", "A:1", "B:2"]
    body = sf.calls[2].request.body or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    uploaded = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in uploaded[1:]] == ["A", "B", "B"]


def test_upsert_auto_sends_records_bulk_left_locked_again_through_collections(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(sf_bulk_threshold=1)
    add_token(sf)
    add_ingest_job(sf, success='"sf__Id","sf__Created",External_Id__c\n"a1","true",P:1\n',
                   failed='"sf__Id","sf__Error",External_Id__c\n'
                          '"","UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this '
                          'record:--",P:2\n',
                   unprocessed="External_Id__c\n")
    sf.add(responses.PATCH, f"{API}/composite/sobjects/MAP_Milestone__c/External_Id__c",
           json=[{"id": "a2", "success": True, "errors": [], "created": True}])
    results = client.upsert_auto("MAP_Milestone__c", "External_Id__c",
                                 [{"External_Id__c": "P:1"}, {"External_Id__c": "P:2"}])
    assert [(r.external_id, r.id, r.outcome) for r in results] == [("P:1", "a1", "ok"),
                                                                   ("P:2", "a2", "ok")]
    sent = json.loads(sf.calls[-1].request.body or b"{}")["records"]
    assert [r["External_Id__c"] for r in sent] == ["P:2"]


def test_a_job_whose_upload_fails_is_aborted(sf: responses.RequestsMock,
                                             client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/jobs/ingest", json={"id": JOB, "state": "Open"})
    sf.add(responses.PUT, f"{API}/jobs/ingest/{JOB}/batches", status=400,
           json=[{"errorCode": "INVALIDJOBSTATE", "message": "Invalid job state"}])
    sf.add(responses.PATCH, f"{API}/jobs/ingest/{JOB}", json={"id": JOB, "state": "Aborted"})
    with pytest.raises(FatalError, match="INVALIDJOBSTATE"):
        client.bulk_upsert("MAP_Milestone__c", "External_Id__c", [{"External_Id__c": "P:1"}])
    assert json.loads(sf.calls[-1].request.body or b"{}") == {"state": "Aborted"}


def test_a_job_that_has_run_long_waits_up_to_a_quarter_of_its_age_between_polls(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    add_ingest_job(sf, success='"sf__Id","sf__Created",External_Id__c\n' + "".join(
        f'"a{n}","true",P:{n}\n' for n in range(40)), failed="", unprocessed="", polls=10)
    client.bulk_upsert("MAP_Milestone__c", "External_Id__c",
                       [{"External_Id__c": f"P:{n}"} for n in range(40)])
    # doubling from 0.5 s to the 10 s of a young job; from 40 s on, a quarter of the age
    assert sleeps == pytest.approx([0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 11.375, 14.21875])


class _CutShort(io.RawIOBase):
    """A response body whose connection drops after ``cut`` bytes."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data, self.cut, self.at = data, cut, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self.at >= self.cut:
            raise ConnectionResetError("connection reset by peer")
        n = min(len(buffer), self.cut - self.at)
        buffer[:n] = self.data[self.at:self.at + n]
        self.at += n
        return n


PAGE = b'"Id","Name"\n' + b"".join(b'"006%04d","Deal %d"\n' % (i, i) for i in range(2_000))


def _query_job(sf: responses.RequestsMock, cut_pages: int, whole: bool = True) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/jobs/query", json={"id": "750Q", "state": "UploadComplete"})
    sf.add(responses.GET, f"{API}/jobs/query/750Q", json={"id": "750Q", "state": "JobComplete"})
    for _ in range(cut_pages):  # answered in the order registered, the last one from then on
        sf.add(responses.GET, f"{API}/jobs/query/750Q/results",
               body=io.BufferedReader(_CutShort(PAGE, len(PAGE) // 2)),  # type: ignore[arg-type]
               headers={"Sforce-Locator": "null"})
    if whole:
        sf.add(responses.GET, f"{API}/jobs/query/750Q/results", body=PAGE,
               headers={"Sforce-Locator": "null"})


def test_a_result_page_cut_short_is_downloaded_again_by_its_locator(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    _query_job(sf, cut_pages=2)
    rows = list(client.bulk_query("SELECT Id, Name FROM Opportunity"))
    assert len(rows) == 2_000  # each row once: the half page downloaded before is dropped
    assert rows[0] == {"Id": "0060000", "Name": "Deal 0"}
    assert rows[-1] == {"Id": "0061999", "Name": "Deal 1999"}
    assert sum(1 for c in sf.calls if c.request.url and "/results" in c.request.url) == 3


def test_a_result_page_cut_short_every_time_fails_the_read_with_one_clear_error(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    _query_job(sf, cut_pages=3, whole=False)
    with pytest.raises(MapsyncError, match="results of bulk query 750Q") as failed:
        list(client.bulk_query("SELECT Id, Name FROM Opportunity"))
    assert "Traceback" not in str(failed.value)
