"""Records known only by Id (Opportunity rollups) are updated, never upserted by Id: the
local org refuses a Collections upsert keyed by Id, as Salesforce does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.emulator.server import Emulator
from tests.connector.test_against_emulator import (  # noqa: F401 - fixture
    connect,
    first_opportunities,
)


def test_collections_update_writes_200_a_call_with_per_record_results(
        emulator_server: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    emulator_server.reset(seed="demo", opportunities=250)
    client, _ = connect()
    opps = first_opportunities(client, 250)
    records: list[dict[str, Any]] = [{"Id": o, "MAP_Days_Slipped__c": n}
                                     for n, o in enumerate(opps)]
    records[3]["MAP_Health__c"] = "Maybe"
    before = emulator_server.api_calls
    results = client.update("Opportunity", records)
    assert emulator_server.api_calls - before == 2
    assert [r.external_id for r in results] == opps
    assert [r.success for r in results].count(False) == 1
    assert results[3].errors[0].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[3].outcome == "skippable"
    rows = {r["Id"]: r["MAP_Days_Slipped__c"] for r in client.query(
        "SELECT Id, MAP_Days_Slipped__c FROM Opportunity")}
    assert rows[opps[1]] == 1
    assert rows[opps[3]] is None


def test_update_above_the_bulk_threshold_goes_through_a_bulk_update_job(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:  # noqa: F811
    client, _ = connect(sf_bulk_threshold=10)
    opps = first_opportunities(client, 40)
    records = [{"Id": o, "MAP_Health__c": "At Risk"} for o in opps]
    before = {j["id"] for j in client.transport.request(
        "GET", "jobs/ingest", context="list").json()["records"]}
    results = client.update_auto("Opportunity", records)
    assert [r.external_id for r in results] == opps
    assert all(r.success and r.id == o for r, o in zip(results, opps, strict=True))
    jobs = client.transport.request("GET", "jobs/ingest", context="list jobs").json()
    assert [j["operation"] for j in jobs["records"] if j["id"] not in before] == ["update"]
    written = {r["Id"]: r["MAP_Health__c"] for r in client.query(
        "SELECT Id, MAP_Health__c FROM Opportunity")}
    assert {written[o] for o in opps} == {"At Risk"}
