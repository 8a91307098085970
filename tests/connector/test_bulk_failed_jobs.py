"""A Bulk ingest job that ends Failed after processing some rows: the connector fetches
its results and answers per record, so only what did not land is reported as failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from config.errors import FatalError
from connectors.emulator.server import Emulator
from tests.connector.test_against_emulator import (  # noqa: F401 - fixture
    connect,
    first_opportunities,
    milestones,
    new_plan,
)


def test_failed_part_way_answers_written_failed_and_unprocessed_records(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    records = milestones(new_plan(client, opp), opp, 30)
    records[4]["Status__c"] = "Maybe Later"
    demo_org.org.set_knobs(bulk_fail_after=10)
    results = client.bulk_upsert("MAP_Milestone__c", "External_Id__c", records)
    assert [r.external_id for r in results] == [r["External_Id__c"] for r in records]
    assert [r.success for r in results[:10]] == [True] * 4 + [False] + [True] * 5
    assert results[4].errors[0].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert all(r.errors[0].code == "BULK_JOB_FAILED" for r in results[10:])
    assert {r.outcome for r in results[10:]} == {"skippable"}  # not resent blindly
    assert client.count("SELECT COUNT() FROM MAP_Milestone__c") == 9


def test_upsert_auto_does_not_resend_what_a_failed_job_never_ran(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    client, _ = connect(sf_bulk_threshold=5)
    [opp] = first_opportunities(client, 1)
    records = milestones(new_plan(client, opp), opp, 12)
    demo_org.org.set_knobs(bulk_fail_after=7)
    results = client.upsert_auto("MAP_Milestone__c", "External_Id__c", records)
    assert [r.success for r in results] == [True] * 7 + [False] * 5
    assert client.count("SELECT COUNT() FROM MAP_Milestone__c") == 7


def test_a_job_that_failed_before_processing_anything_is_fatal(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    records = milestones(new_plan(client, opp), opp, 3)
    demo_org.org.set_knobs(bulk_fail_after=0)
    with pytest.raises(FatalError, match="ended Failed"):
        client.bulk_upsert("MAP_Milestone__c", "External_Id__c", records)


def _csv(records: list[dict[str, Any]]) -> bytes:
    header = list(records[0])
    return ("\n".join([",".join(header)] + [",".join(str(r[h]) for h in header)
                                            for r in records]) + "\n").encode()


def test_a_run_spanning_job_failed_outright_is_collected_its_records_failures(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    records = milestones(new_plan(client, opp), opp, 3)
    demo_org.org.set_knobs(bulk_fail_after=0)
    job = client.bulk.submit("MAP_Milestone__c", "External_Id__c", _csv(records))
    got: dict[int, list[Any]] = {}
    gone = client.bulk.results_into([(job, "External_Id__c")], [3],
                                    lambda n, rows: got.setdefault(n, list(rows)))
    assert gone == []
    assert sorted(r.external_id for r in got[0]) == sorted(r["External_Id__c"] for r in records)
    assert {(r.success, r.errors[0].code, r.outcome) for r in got[0]} == {
        (False, "BULK_JOB_FAILED", "skippable")}


def test_a_run_spanning_job_salesforce_no_longer_has_is_named_not_fatal(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    records = milestones(new_plan(client, opp), opp, 2)
    kept, lost = (client.bulk.submit("MAP_Milestone__c", "External_Id__c", _csv(part))
                  for part in (records[:1], records[1:]))
    client.bulk.results_into([(lost, "External_Id__c")], [1], lambda n, rows: list(rows))
    assert client.transport.request("DELETE", f"jobs/ingest/{lost}",
                                    context="delete").status_code == 204
    got: dict[int, list[Any]] = {}
    gone = client.bulk.results_into([(lost, "External_Id__c"), (kept, "External_Id__c")],
                                    [1, 1], lambda n, rows: got.setdefault(n, list(rows)))
    assert gone == [lost]
    assert list(got) == [1]  # the job still there is collected
    assert [(r.external_id, r.success) for r in got[1]] == [(records[0]["External_Id__c"], True)]
