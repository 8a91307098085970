"""The connector against the local HTTPS org: every flow and error class takes its path.

The org is a real server (TLS with its own CA, OAuth, SOQL, Collections, limits, faults), so
these tests prove what the narrow HTTP tests cannot: that the requests the connector builds
are the ones a Salesforce-shaped server accepts, and that its answers are read right.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from config.errors import AuthenticationError, RateLimitedError, RetryableError
from config.settings import Settings
from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from connectors.salesforce import DuplicateValueError, SalesforceClient, soql
from connectors.salesforce.errors import error_from_simple_salesforce
from tests.connector.conftest import make_settings

HOSTILE = "O'Brien \\' OR Name LIKE '%"


def settings_for(org: Emulator, flow: str = "client_credentials", **overrides: Any) -> Settings:
    values: dict[str, Any] = {"sf_login_url": org.login_url, "sf_client_id": org.client_id,
                              "sf_client_secret": SecretStr(org.client_secret),
                              "sf_ca_bundle": org.ca_file, "sf_retry_attempts": 4,
                              "sf_bulk_poll_seconds": 0.02}
    if flow == "jwt":
        values.update(sf_client_secret=None, sf_username=org.username,
                      sf_private_key_file=org.private_key_file)
    elif flow == "password":
        values.update(sf_username=org.username, sf_password=SecretStr(org.password))
    values.update(overrides)
    return make_settings(**values)


class ShortSleeps(list[float]):
    """Records each requested sleep and sleeps at most 10 ms (Bulk jobs need real time)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.01))


@pytest.fixture
def connect(emulator_server: Emulator) -> Callable[..., tuple[SalesforceClient, ShortSleeps]]:
    def build(flow: str = "client_credentials",
              **overrides: Any) -> tuple[SalesforceClient, ShortSleeps]:
        sleeps = ShortSleeps()
        return SalesforceClient(settings_for(emulator_server, flow, **overrides),
                                sleep=sleeps), sleeps
    return build


def new_plan(client: SalesforceClient, opportunity_id: str) -> str:
    [result] = client.upsert("Mutual_Action_Plan__c", "External_Id__c", [{
        "External_Id__c": opportunity_id, "Opportunity__c": opportunity_id,
        "Name": "Plan", "Status__c": "Active"}])
    assert result.success, result.message
    assert result.id is not None
    return result.id


def milestones(plan_id: str, opportunity_id: str, count: int) -> list[dict[str, Any]]:
    return [{"External_Id__c": f"{opportunity_id}:m{n}", "Plan__c": plan_id,
             "Name": f"Milestone {n}", "Status__c": "Not Started", "Sequence__c": n}
            for n in range(count)]


def first_opportunities(client: SalesforceClient, limit: int) -> list[str]:
    return [r["Id"] for r in client.query(soql(
        "SELECT Id FROM Opportunity ORDER BY Id LIMIT {n}", n=limit))]


# --- authentication ------------------------------------------------------------------------

@pytest.mark.parametrize("flow", ["client_credentials", "jwt", "password"])
def test_each_flow_logs_in_and_queries(demo_org: Emulator, connect: Callable[..., Any],
                                       flow: str) -> None:
    client, _ = connect(flow)
    token = client.connect()
    assert token.instance_url == demo_org.instance_url
    assert client.org_id is not None
    assert client.org_id.startswith("00D")
    assert client.user_id is not None
    assert client.user_id.startswith("005")
    assert client.count("SELECT COUNT() FROM Opportunity") == 50


def test_wrong_client_secret_is_a_configuration_error(emulator: Emulator,
                                                      connect: Callable[..., Any]) -> None:
    from config.errors import ConfigurationError

    client, _ = connect(sf_client_secret=SecretStr("0" * 64))
    with pytest.raises(ConfigurationError) as caught:
        client.connect()
    assert "0" * 64 not in str(caught.value)


def test_expired_session_is_renewed_and_the_run_continues(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, _ = connect()
    assert client.count("SELECT COUNT() FROM Opportunity") == 50
    demo_org.expire_sessions()
    assert client.count("SELECT COUNT() FROM Opportunity") == 50
    assert client.transport.authentications == 2


def test_sessions_that_never_work_stop_with_an_authentication_error(
        emulator: Emulator, connect: Callable[..., Any]) -> None:
    emulator.set_knobs(session_max_calls=0)
    client, _ = connect()
    with pytest.raises(AuthenticationError, match="twice in a row"):
        client.limits()
    assert client.transport.authentications == 2


def test_sessions_expiring_mid_paging_are_renewed_between_pages(
        emulator_server: Emulator, connect: Callable[..., Any]) -> None:
    emulator_server.reset(seed="demo", opportunities=1000)
    emulator_server.set_knobs(session_max_calls=2)
    client, _ = connect()
    rows = list(client.query_all("SELECT Id FROM Opportunity", batch_size=200))
    assert len({r["Id"] for r in rows}) == len(rows) >= 1000
    assert client.transport.authentications >= 2


# --- errors --------------------------------------------------------------------------------

def test_server_unavailable_is_retried_a_bounded_number_of_times(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, sleeps = connect(sf_retry_attempts=3)
    client.connect()
    demo_org.set_knobs(unavailable_rate=1.0)
    with pytest.raises(RetryableError, match="503"):
        client.limits()
    assert len(sleeps) == 2


def test_dropped_connections_are_retried_a_bounded_number_of_times(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, sleeps = connect(sf_retry_attempts=3)
    client.connect()
    demo_org.set_knobs(drop_rate=1.0)
    with pytest.raises(RetryableError):
        client.limits()
    assert len(sleeps) == 2


def test_flaky_org_still_answers_every_page_through_retries(
        emulator_server: Emulator, connect: Callable[..., Any]) -> None:
    emulator_server.reset(seed="demo", opportunities=2000, fault_seed=7)
    emulator_server.set_knobs(unavailable_rate=0.2, drop_rate=0.1)
    client, sleeps = connect(sf_retry_attempts=10)
    rows = list(client.query_all("SELECT Id FROM Opportunity", batch_size=200))
    assert len({r["Id"] for r in rows}) == len(rows) >= 2000
    assert sleeps


def test_locked_rows_are_retried_per_record_until_written(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, sleeps = connect(sf_retry_attempts=8)
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    demo_org.org.reseed_faults(3)
    demo_org.set_knobs(lock_rate=0.3)
    results = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(plan, opp, 20))
    assert [r.outcome for r in results] == ["ok"] * 20
    assert sleeps


def test_rows_locked_on_every_attempt_end_retryable_not_raised(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, sleeps = connect(sf_retry_attempts=3)
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    demo_org.set_knobs(lock_rate=1.0)
    results = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(plan, opp, 3))
    assert [r.outcome for r in results] == ["retryable"] * 3
    assert {e.code for r in results for e in r.errors} == {"UNABLE_TO_LOCK_ROW"}
    assert len(sleeps) == 2


def test_validation_failures_are_skippable_per_record(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    records = milestones(plan, opp, 3)
    records[1]["Status__c"] = "Maybe Later"
    del records[2]["Name"]
    results = client.upsert("MAP_Milestone__c", "External_Id__c", records)
    assert [r.outcome for r in results] == ["ok", "skippable", "skippable"]
    assert results[1].errors[0].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[2].errors[0].code == "REQUIRED_FIELD_MISSING"


def test_a_second_insert_of_the_same_external_id_is_a_duplicate_to_reconcile(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    from simple_salesforce.exceptions import SalesforceError as LibraryError

    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    record = milestones(plan, opp, 1)[0]
    client.simple_salesforce.MAP_Milestone__c.create(record)
    with pytest.raises(LibraryError) as caught:
        client.simple_salesforce.MAP_Milestone__c.create(record)
    error = error_from_simple_salesforce(caught.value, "create milestone")
    assert isinstance(error, DuplicateValueError)
    [again] = client.upsert("MAP_Milestone__c", "External_Id__c", [record])
    assert again.success
    assert not again.created


def test_upsert_reports_created_then_updated(demo_org: Emulator,
                                             connect: Callable[..., Any]) -> None:
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    first = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(plan, opp, 2))
    second = client.upsert("MAP_Milestone__c", "External_Id__c", milestones(plan, opp, 2))
    assert [r.created for r in first] == [True, True]
    assert [r.created for r in second] == [False, False]
    assert [r.id for r in first] == [r.id for r in second]


def test_deleting_twice_counts_as_done_and_a_deleted_record_reads_as_gone(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, _ = connect()
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    ids = [r.id for r in client.upsert("MAP_Milestone__c", "External_Id__c",
                                       milestones(plan, opp, 2)) if r.id]
    assert [r.outcome for r in client.delete(ids)] == ["ok", "ok"]
    assert [(r.success, r.outcome) for r in client.delete(ids)] == [(True, "ok")] * 2
    deleted = list(client.query_all(soql(
        "SELECT Id, IsDeleted FROM MAP_Milestone__c WHERE Id IN {ids}", ids=ids)))
    assert {r["Id"] for r in deleted if r["IsDeleted"]} == set(ids)
    assert list(client.query(soql("SELECT Id FROM MAP_Milestone__c WHERE Id IN {ids}",
                                  ids=ids))) == []


def test_spent_daily_quota_stops_the_run_without_retrying(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    demo_org.set_knobs(daily_api_limit=3)
    client, sleeps = connect(api_budget_share=1.0)
    for _ in range(3):
        client.limits()
    with pytest.raises(RateLimitedError):
        client.limits()
    assert sleeps == []


def test_budget_guard_stops_the_run_before_the_org_quota_is_spent(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    demo_org.set_knobs(daily_api_limit=10)
    client, _ = connect(api_budget_share=0.5)
    for _ in range(5):
        client.limits()
    calls_before = demo_org.api_calls
    with pytest.raises(RateLimitedError, match="API budget reached: 5 of 10"):
        list(client.query_all("SELECT Id FROM Opportunity"))
    assert demo_org.api_calls == calls_before
    assert client.usage.calls == 5


# --- operations ----------------------------------------------------------------------------

def test_collections_write_200_a_call_with_per_record_results(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, _ = connect()
    opps = first_opportunities(client, 30)
    plans = {opp: new_plan(client, opp) for opp in opps}
    records = [m for opp in opps for m in milestones(plans[opp], opp, 15)]  # 450 records
    before = demo_org.api_calls
    results = client.upsert("MAP_Milestone__c", "External_Id__c", records, group_key="Plan__c")
    assert demo_org.api_calls - before == 3
    assert all(r.success and r.created for r in results)
    assert [r.external_id for r in results] == [r["External_Id__c"] for r in records]
    assert client.count("SELECT COUNT() FROM MAP_Milestone__c") == 450


def test_a_poll_of_three_objects_costs_one_call(demo_org: Emulator,
                                                connect: Callable[..., Any]) -> None:
    client, _ = connect()
    client.connect()
    before = demo_org.api_calls
    rows = client.composite_query([
        "SELECT Id FROM Opportunity WHERE SystemModstamp > 2099-01-01T00:00:00Z",
        "SELECT Id FROM Mutual_Action_Plan__c", "SELECT Id FROM MAP_Milestone__c"])
    assert rows == [[], [], []]
    assert demo_org.api_calls - before == 1


def test_composite_query_follows_every_page(emulator_server: Emulator,
                                            connect: Callable[..., Any]) -> None:
    emulator_server.reset(seed="demo", opportunities=4500)
    client, _ = connect()
    client.connect()
    total = client.count("SELECT COUNT() FROM Opportunity")
    before = emulator_server.api_calls
    [opps, accounts] = client.composite_query(["SELECT Id FROM Opportunity",
                                               "SELECT Id FROM Account"])
    assert len({r["Id"] for r in opps}) == total
    assert accounts
    assert emulator_server.api_calls - before == -(-total // 2000)


def test_query_pages_cost_one_call_per_2000_rows(emulator_server: Emulator,
                                                 connect: Callable[..., Any]) -> None:
    emulator_server.reset(seed="demo", opportunities=5000)
    client, _ = connect()
    total = client.count("SELECT COUNT() FROM Opportunity")
    before = emulator_server.api_calls
    rows = list(client.query_all("SELECT Id, Name, StageName FROM Opportunity"))
    assert len({r["Id"] for r in rows}) == total
    assert emulator_server.api_calls - before == -(-total // 2000)
    assert client.usage.used == emulator_server.api_calls


def test_hostile_name_matches_exactly_one_record(demo_org: Emulator,
                                                 connect: Callable[..., Any]) -> None:
    client, _ = connect()
    first = next(client.query("SELECT Id, OwnerId FROM Account LIMIT 1"))
    account = first["Id"]
    # the integration user may not create Opportunities: a rep enters them
    sf: Any = salesforce_client(demo_org, session_id=demo_org.access_token(first["OwnerId"]))
    for name in (HOSTILE, "O'Brien", "O'Brien \\"):
        sf.Opportunity.create({"Name": name, "StageName": "Prospecting",
                               "CloseDate": "2026-12-01", "AccountId": account})
    rows = list(client.query(soql("SELECT Id, Name FROM Opportunity WHERE Name = {name}",
                                  name=HOSTILE)))
    assert [r["Name"] for r in rows] == [HOSTILE]
    like = list(client.query(soql("SELECT Name FROM Opportunity WHERE Name LIKE '{p:like}%'",
                                  p="O'Brien \\")))
    assert sorted(r["Name"] for r in like) == sorted([HOSTILE, "O'Brien \\"])


def test_describe_and_limits(demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, _ = connect()
    fields = {f["name"] for f in client.describe("MAP_Milestone__c")["fields"]}
    assert {"External_Id__c", "Plan__c", "Status__c"} <= fields
    assert client.limits()["DailyApiRequests"]["Max"] > 0


# --- Bulk API 2.0 --------------------------------------------------------------------------

def test_bulk_upsert_round_trip_maps_results_by_external_id(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, sleeps = connect()
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    records = milestones(plan, opp, 30)
    records[7]["Status__c"] = "Maybe Later"
    before = demo_org.api_calls
    results = client.bulk_upsert("MAP_Milestone__c", "External_Id__c", records)
    assert [r.external_id for r in results] == [r["External_Id__c"] for r in records]
    assert [r.outcome for r in results].count("ok") == 29
    assert results[7].outcome == "skippable"
    assert results[7].errors[0].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert all(r.id for r in results if r.success)
    # create, upload, close, the polls, successful and failed results; every record was
    # processed, so the unprocessed set is not fetched
    assert demo_org.api_calls - before == 5 + len(sleeps)
    assert client.count("SELECT COUNT() FROM MAP_Milestone__c") == 29


def test_bulk_upsert_fetches_only_the_result_sets_the_job_says_hold_rows(
        demo_org: Emulator, connect: Callable[..., Any]) -> None:
    client, sleeps = connect()
    [opp] = first_opportunities(client, 1)
    plan = new_plan(client, opp)
    records = milestones(plan, opp, 30)
    before = demo_org.api_calls
    results = client.bulk_upsert("MAP_Milestone__c", "External_Id__c", records)
    assert all(r.success and r.id for r in results)
    assert demo_org.api_calls - before == 4 + len(sleeps)  # no failed, no unprocessed


def test_bulk_query_round_trip_pages_by_locator(emulator_server: Emulator,
                                                connect: Callable[..., Any]) -> None:
    emulator_server.reset(seed="demo", opportunities=3000)
    client, _ = connect()
    total = client.count("SELECT COUNT() FROM Opportunity")
    rows = list(client.bulk_query("SELECT Id, Name, Account.Name FROM Opportunity",
                                  max_records=1000))
    assert len({r["Id"] for r in rows}) == total
    assert all(r["Account.Name"] for r in rows)


def test_bulk_job_survives_an_expired_session(demo_org: Emulator,
                                              connect: Callable[..., Any]) -> None:
    client, _ = connect()
    demo_org.set_knobs(session_max_calls=2)  # create and poll; the results need a new session
    assert len(list(client.bulk_query("SELECT Id FROM Opportunity"))) == 50
    assert client.transport.authentications >= 2
