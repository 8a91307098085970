"""Reading: lazy paging through nextRecordsUrl, and several queries for one Composite call."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from config.errors import RetryableError
from connectors.salesforce import SalesforceClient
from tests.connector.conftest import API, Sleeps, add_token

NEXT = "/services/data/v59.0/query/01gD0000002HU6KIAW-2000"


def page(ids: list[str], next_url: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"totalSize": 2 * len(ids) if next_url else len(ids),
                               "done": next_url is None,
                               "records": [{"attributes": {"type": "Opportunity"}, "Id": i}
                                           for i in ids]}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return body


def test_query_all_pages_through_next_records_url_with_the_batch_size(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/queryAll", json=page(["0061", "0062"], NEXT))
    sf.add(responses.GET, f"https://org.example.test{NEXT}", json=page(["0063"]))
    rows = list(client.query_all("SELECT Id FROM Opportunity", batch_size=500))
    assert [r["Id"] for r in rows] == ["0061", "0062", "0063"]
    assert parse_qs(urlsplit(str(sf.calls[1].request.url)).query)["q"] == [
        "SELECT Id FROM Opportunity"]
    assert [c.request.headers["Sforce-Query-Options"] for c in sf.calls[1:]] == [
        "batchSize=500", "batchSize=500"]


def test_query_excludes_deleted_rows_by_using_the_query_resource(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/query", json=page(["0061"]))
    assert len(list(client.query("SELECT Id FROM Opportunity"))) == 1


def test_pages_are_fetched_only_as_the_caller_iterates(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/queryAll", json=page(["0061"], NEXT))
    sf.add(responses.GET, f"https://org.example.test{NEXT}", json=page(["0062"]))
    rows = client.query_all("SELECT Id FROM Opportunity")
    assert len(sf.calls) == 0
    next(rows)
    assert len(sf.calls) == 2
    next(rows)
    assert len(sf.calls) == 3


def test_batch_size_outside_salesforce_bounds_is_refused(client: SalesforceClient) -> None:
    with pytest.raises(ValueError, match="between 200 and 2000"):
        next(client.query_all("SELECT Id FROM Opportunity", batch_size=5000))


def _subresponse(ref: str, body: object, status: int = 200) -> dict[str, object]:
    return {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref}


def test_a_poll_of_three_queries_that_finds_nothing_costs_one_call(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse(f"q{n}", page([])) for n in range(3)]})
    soqls = ["SELECT Id FROM Opportunity", "SELECT Id FROM Mutual_Action_Plan__c",
             "SELECT Id FROM MAP_Milestone__c"]
    assert client.composite_query(soqls) == [[], [], []]
    assert client.usage.calls == 1
    sent = json.loads(sf.calls[1].request.body or b"{}")
    urls = [s["url"] for s in sent["compositeRequest"]]
    assert urls[0] == "/services/data/v59.0/queryAll?q=SELECT+Id+FROM+Opportunity"
    assert [s["method"] for s in sent["compositeRequest"]] == ["GET"] * 3


def test_resources_ride_in_the_first_composite_call_and_answer_errors_as_they_come(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    refused = [{"errorCode": "INVALID_REPLICATION_DATE", "message": "too old"}]
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse("q0", page([])), _subresponse("r0", {"ids": ["00K1"]}),
        _subresponse("r1", refused, 400)]})
    rows, answers = client.composite_read(
        ["SELECT Id FROM Opportunity"],
        ["sobjects/OpportunityContactRole/updated/?start=a&end=b",
         "sobjects/OpportunityContactRole/deleted/?start=a&end=b"])
    assert rows == [[]]
    assert answers == [(200, {"ids": ["00K1"]}), (400, refused)]
    assert client.usage.calls == 1
    sent = json.loads(sf.calls[1].request.body or b"{}")
    assert sent["compositeRequest"][1]["url"] == (
        "/services/data/v59.0/sobjects/OpportunityContactRole/updated/?start=a&end=b")


def test_seven_queries_take_two_composite_calls(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse(f"q{n}", page([f"r{n}"])) for n in range(5)]})
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse(f"q{n}", page([f"r{n}"])) for n in range(5, 7)]})
    rows = client.composite_query([f"SELECT Id FROM Account WHERE N = {n}" for n in range(7)])
    assert [[r["Id"] for r in rs] for rs in rows] == [[f"r{n}"] for n in range(7)]


def test_queries_with_more_pages_continue_together_in_the_next_composite_call(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    other = "/services/data/v59.0/query/01gD0000002HU6KIAX-2000"
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse("q0", page(["a1"], NEXT)), _subresponse("q1", page(["b1"], other)),
        _subresponse("q2", page(["c1"]))]})
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse("q0", page(["a2"])), _subresponse("q1", page(["b2"]))]})
    rows = client.composite_query(["A", "B", "C"])
    assert [[r["Id"] for r in rs] for rs in rows] == [["a1", "a2"], ["b1", "b2"], ["c1"]]
    second = json.loads(sf.calls[2].request.body or b"{}")
    assert [s["url"] for s in second["compositeRequest"]] == [NEXT, other]


def test_a_failed_subquery_is_classified_and_retried(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    timeout = [{"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for "
                                                         "too long."}]
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse("q0", page(["a1"])), _subresponse("q1", timeout, 400)]})
    sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
        _subresponse("q0", page(["a1"])), _subresponse("q1", page(["b1"]))]})
    rows = client.composite_query(["A", "B"])
    assert [[r["Id"] for r in rs] for rs in rows] == [["a1"], ["b1"]]
    assert len(sleeps) == 1


def test_a_subquery_failing_every_attempt_raises_its_class(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(sf_retry_attempts=2)
    add_token(sf)
    timeout = [{"errorCode": "QUERY_TIMEOUT", "message": "too long"}]
    for _ in range(2):
        sf.add(responses.POST, f"{API}/composite", json={"compositeResponse": [
            _subresponse("q0", timeout, 400)]})
    with pytest.raises(RetryableError, match="QUERY_TIMEOUT"):
        client.composite_query(["A"])


class PagingOrg:
    """Answers Composite query requests like Salesforce: each query has two pages, and a
    locator stays open from its first page until its last page is read."""

    def __init__(self, forget_first_locator: bool = False) -> None:
        self.open: set[str] = set()
        self.most_open = 0
        self.forget_first_locator = forget_first_locator

    def __call__(self, request: object) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)  # type: ignore[attr-defined]
        answers = []
        for sub in body["compositeRequest"]:
            ref, url = sub["referenceId"], sub["url"]
            if "/query/" not in url:  # a first page: open a locator
                q = parse_qs(urlsplit(url).query)["q"][0]
                locator = f"/services/data/v59.0/query/01g{q}-2000"
                self.open.add(locator)
                answers.append(_subresponse(ref, page([f"{q}-1"], locator)))
            elif self.forget_first_locator:
                self.forget_first_locator = False
                self.open.discard(url)
                answers.append(_subresponse(ref, [{"errorCode": "INVALID_QUERY_LOCATOR",
                                                   "message": "invalid query locator"}], 400))
            else:
                self.open.discard(url)
                answers.append(_subresponse(ref, page([f"{url.split('01g')[1][:-5]}-2"])))
            self.most_open = max(self.most_open, len(self.open))
        return 200, {}, json.dumps({"compositeResponse": answers})


def test_no_more_than_five_queries_hold_an_open_locator_at_once(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    org = PagingOrg()
    sf.add_callback(responses.POST, f"{API}/composite", callback=org)
    queries = [f"Q{n}" for n in range(12)]
    rows = client.composite_query(queries)
    assert [[r["Id"] for r in rs] for rs in rows] == [[f"{q}-1", f"{q}-2"] for q in queries]
    assert org.most_open <= 5
    assert len(sf.calls) - 1 <= 6  # still five subrequests a call: 24 pages in 5 calls + token


def test_an_invalid_query_locator_reads_that_query_again_from_its_start(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add_callback(responses.POST, f"{API}/composite",
                    callback=PagingOrg(forget_first_locator=True))
    rows = client.composite_query(["Q0", "Q1"])
    assert [[r["Id"] for r in rs] for rs in rows] == [["Q0-1", "Q0-2"], ["Q1-1", "Q1-2"]]
