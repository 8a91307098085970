"""Collections writes: 200 a call, groups kept together, per-record results, lock retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses

from config.errors import RetryableError
from connectors.salesforce import SalesforceClient
from connectors.salesforce.sobject_collections import pack
from tests.connector.conftest import API, Sleeps, add_token

UPSERT_URL = f"{API}/composite/sobjects/MAP_Milestone__c/External_Id__c"
LOCKED = {"statusCode": "UNABLE_TO_LOCK_ROW",
          "message": "unable to obtain exclusive access to this record", "fields": []}


def milestones(plans: int, per_plan: int) -> list[dict[str, Any]]:
    return [{"External_Id__c": f"006P{p:04d}:m{m}", "Plan__r": {"External_Id__c": f"006P{p:04d}"},
             "Plan": f"006P{p:04d}", "Name": f"Milestone {m}"}
            for p in range(plans) for m in range(per_plan)]


def echo_success(request: Any) -> tuple[int, dict[str, str], str]:
    """Salesforce's answer when every record of the request is written."""
    records = json.loads(request.body)["records"]
    return 200, {}, json.dumps([{"id": f"a01{n:015d}", "success": True, "errors": [],
                                 "created": True} for n in range(len(records))])


def sent_records(call: responses.Call) -> list[dict[str, Any]]:
    body = json.loads(call.request.body or b"{}")
    assert body["allOrNone"] is False
    return list(body["records"])


def test_records_are_sent_200_per_call(sf: responses.RequestsMock,
                                       client: SalesforceClient) -> None:
    add_token(sf)
    for _ in range(3):
        sf.add_callback(responses.PATCH, UPSERT_URL, callback=echo_success)
    results = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(45, 10))
    assert [len(sent_records(c)) for c in sf.calls[1:]] == [200, 200, 50]
    assert len(results) == 450
    assert all(r.success and r.outcome == "ok" for r in results)
    assert client.usage.calls == 3


def test_each_record_is_typed_for_collections(sf: responses.RequestsMock,
                                              client: SalesforceClient) -> None:
    add_token(sf)
    sf.add_callback(responses.PATCH, UPSERT_URL, callback=echo_success)
    client.upsert("MAP_Milestone__c", "External_Id__c", milestones(1, 2))
    assert sent_records(sf.calls[1])[0] == {
        "attributes": {"type": "MAP_Milestone__c"}, "External_Id__c": "006P0000:m0",
        "Plan__r": {"External_Id__c": "006P0000"}, "Plan": "006P0000", "Name": "Milestone 0"}


def test_children_of_one_parent_go_in_the_same_request(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    records = milestones(40, 12)  # 480 records: 16 plans of 12 fit in a request of 192
    for _ in range(3):
        sf.add_callback(responses.PATCH, UPSERT_URL, callback=echo_success)
    results = client.upsert("MAP_Milestone__c", "External_Id__c", records, group_key="Plan")
    plans_per_request = [{r["Plan"] for r in sent_records(c)} for c in sf.calls[1:]]
    for n, plans in enumerate(plans_per_request):
        for other in plans_per_request[n + 1:]:
            assert not plans & other
    assert [r.external_id for r in results] == [r["External_Id__c"] for r in records]


def test_packing_fills_requests_with_whole_groups_first_fit() -> None:
    records = ([{"g": "big", "n": n} for n in range(150)] + [{"g": "a", "n": n} for n in range(60)]
               + [{"g": "b", "n": n} for n in range(50)])
    chunks = pack(records, "g")
    assert [sorted({r["g"] for r in c}) for c in chunks] == [["b", "big"], ["a"]]


def test_a_group_larger_than_a_request_is_split_across_requests() -> None:
    chunks = pack([{"g": "huge"} for _ in range(450)], "g")
    assert [len(c) for c in chunks] == [200, 200, 50]


def test_group_key_may_be_a_function_of_the_record() -> None:
    records = [{"External_Id__c": f"006{p}:m{m}"} for p in range(3) for m in range(90)]
    chunks = pack(records, lambda r: r["External_Id__c"].split(":")[0])
    assert [len(c) for c in chunks] == [180, 90]


def test_failed_records_are_reported_not_raised(sf: responses.RequestsMock,
                                                client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.PATCH, UPSERT_URL, json=[
        {"id": "a01000000000001AAA", "success": True, "errors": [], "created": False},
        {"id": None, "success": False, "errors": [
            {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
             "message": "Due date must be after the plan start", "fields": ["Due_Date__c"]}]},
        {"id": None, "success": False, "errors": [
            {"statusCode": "DUPLICATE_VALUE", "message": "duplicate value found",
             "fields": []}]},
        {"id": None, "success": False, "errors": [
            {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]},
    ])
    results = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(1, 4))
    assert [(r.external_id, r.outcome) for r in results] == [
        ("006P0000:m0", "ok"), ("006P0000:m1", "skippable"), ("006P0000:m2", "duplicate"),
        ("006P0000:m3", "gone")]
    assert results[0].id == "a01000000000001AAA"
    assert results[0].created is False
    assert results[1].errors[0].fields == ["Due_Date__c"]
    assert results[1].message == ("FIELD_CUSTOM_VALIDATION_EXCEPTION: Due date must be after "
                                  "the plan start")


def test_a_locked_record_is_sent_again_alone_until_it_is_written(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    sf.add(responses.PATCH, UPSERT_URL, json=[
        {"id": "a01000000000001AAA", "success": True, "errors": [], "created": True},
        {"id": None, "success": False, "errors": [LOCKED]},
        {"id": "a01000000000003AAA", "success": True, "errors": [], "created": True}])
    sf.add(responses.PATCH, UPSERT_URL, json=[
        {"id": "a01000000000002AAA", "success": True, "errors": [], "created": True}])
    results = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(1, 3))
    assert [r["External_Id__c"] for r in sent_records(sf.calls[2])] == ["006P0000:m1"]
    assert [r.id for r in results] == ["a01000000000001AAA", "a01000000000002AAA",
                                       "a01000000000003AAA"]
    assert all(r.outcome == "ok" for r in results)
    assert len(sleeps) == 1


def test_a_record_locked_on_every_attempt_ends_retryable_after_bounded_attempts(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    sf.add(responses.PATCH, UPSERT_URL, json=[
        {"id": "a01000000000001AAA", "success": True, "errors": [], "created": True},
        {"id": None, "success": False, "errors": [LOCKED]}])
    for _ in range(3):
        sf.add(responses.PATCH, UPSERT_URL, json=[{"id": None, "success": False,
                                                   "errors": [LOCKED]}])
    results = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(1, 2))
    assert [r.outcome for r in results] == ["ok", "retryable"]
    assert len(sf.calls) == 1 + 4
    assert len(sleeps) == 3


def test_a_failed_request_is_retried_within_the_same_bound(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(sf_retry_attempts=2)
    add_token(sf)
    sf.add(responses.PATCH, UPSERT_URL, status=503, body="")
    sf.add(responses.PATCH, UPSERT_URL, status=503, body="")
    with pytest.raises(RetryableError):
        client.upsert("MAP_Milestone__c", "External_Id__c", milestones(1, 2))


def test_records_without_their_external_id_are_refused_before_any_call(
        client: SalesforceClient) -> None:
    with pytest.raises(ValueError, match="External_Id__c"):
        client.upsert("MAP_Milestone__c", "External_Id__c", [{"Name": "x"}])


def test_delete_sends_200_ids_per_call_and_counts_already_deleted_as_done(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    ids = [f"a01{n:015d}" for n in range(201)]
    sf.add(responses.DELETE, f"{API}/composite/sobjects", json=[
        {"id": i, "success": True, "errors": []} for i in ids[:199]] + [
        {"id": None, "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED",
                                                   "message": "entity is deleted"}]}])
    sf.add(responses.DELETE, f"{API}/composite/sobjects", json=[
        {"id": None, "success": False, "errors": [{"statusCode": "INSUFFICIENT_ACCESS_OR_READONLY",
                                                   "message": "no"}]}])
    results = client.delete(ids)
    from urllib.parse import parse_qs, urlsplit

    sent = [parse_qs(urlsplit(str(c.request.url)).query) for c in sf.calls[1:]]
    assert [len(q["ids"][0].split(",")) for q in sent] == [200, 1]
    assert sent[0]["allOrNone"] == ["false"]
    assert results[199].success
    assert results[199].outcome == "ok"
    assert results[199].id == ids[199]
    assert results[200].outcome == "skippable"


def test_upsert_auto_uses_collections_up_to_the_threshold(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(sf_bulk_threshold=3)
    add_token(sf)
    sf.add_callback(responses.PATCH, UPSERT_URL, callback=echo_success)
    results = client.upsert_auto("MAP_Milestone__c", "External_Id__c", milestones(1, 3))
    assert len(results) == 3
