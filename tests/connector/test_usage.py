"""API usage: counted per run, read from every response, and a guard that stops in time."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses

from config.errors import RateLimitedError
from connectors.salesforce import SalesforceClient
from connectors.salesforce.usage import ApiUsage, is_counted, parse_limit_info
from tests.connector.conftest import API, INSTANCE, TOKEN_URL, add_token, limit_info


@pytest.mark.parametrize(("header", "expected"), [
    ("api-usage=25/15000", (25, 15000)),
    ("api-usage=14999/15000; api-bursts=3/5", (14999, 15000)),
    ("api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)", (18, 5000)),
    (" api-usage = 7 / 100 ;", (7, 100)),
    ("per-app-api-usage=17/250(appName=x)", None),
    ("", None),
    (None, None),
    ("api-usage=garbage", None),
])
def test_limit_info_header_first_pair_is_read_and_the_rest_tolerated(
        header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_limit_info(header) == expected


@pytest.mark.parametrize(("url", "counted"), [
    (f"{API}/query?q=SELECT+Id+FROM+Account", True),
    (f"{API}/composite", True),
    (f"{API}/jobs/ingest/750x/batches", True),
    (f"{INSTANCE}/services/data/v59.0", True),
    (f"{INSTANCE}/services/data", False),
    (f"{INSTANCE}/services/data/", False),
    (TOKEN_URL, False),
    (f"{INSTANCE}/services/oauth2/userinfo", False),
])
def test_only_requests_under_a_versioned_data_path_cost_a_call(url: str, counted: bool) -> None:
    assert is_counted(url) is counted


def test_each_call_is_counted_and_the_last_reported_usage_kept(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", json={}, headers=limit_info(100))
    sf.add(responses.GET, f"{API}/sobjects/Account/describe", json={},
           headers={"Sforce-Limit-Info": "api-usage=101/15000; api-bursts=1/5"})
    client.limits()
    client.describe("Account")
    assert (client.usage.calls, client.usage.used, client.usage.max) == (2, 101, 15000)


def test_a_failed_call_still_counts(sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", status=400, headers=limit_info(5),
           json=[{"errorCode": "MALFORMED_QUERY", "message": "x"}])
    with pytest.raises(Exception, match="MALFORMED_QUERY"):
        client.limits()
    assert client.usage.calls == 1


def test_budget_guard_stops_before_the_call_once_usage_passes_the_share(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(api_budget_share=0.8)
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", json={}, headers=limit_info(12000))
    client.limits()
    with pytest.raises(RateLimitedError) as caught:
        client.describe("Opportunity")  # not registered: it must not be sent
    assert str(caught.value).startswith("API budget reached: 12000 of 15000 (80%")
    assert len(sf.calls) == 2


def test_budget_guard_lets_calls_through_below_the_share(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(api_budget_share=0.8)
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", json={}, headers=limit_info(11999))
    sf.add(responses.GET, f"{API}/limits", json={}, headers=limit_info(12000))
    client.limits()
    client.limits()
    assert client.usage.calls == 2


def test_spent_quota_answer_is_rate_limited_and_not_retried(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", status=403,
           json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit "
                  "exceeded."}])
    with pytest.raises(RateLimitedError):
        client.limits()
    assert len(sf.calls) == 2


def test_usage_snapshot_reports_plain_figures() -> None:
    usage = ApiUsage(budget_share=0.5)
    usage.record(f"{API}/limits", "api-usage=50/200")
    assert usage.snapshot() == {"calls": 1, "used": 50, "max": 200, "share_used": 0.25,
                                "budget_share": 0.5}


def test_a_new_run_is_not_refused_on_the_last_run_s_stale_usage() -> None:
    usage = ApiUsage(budget_share=0.8)
    usage.record(f"{API}/limits", "api-usage=90/100")
    with pytest.raises(RateLimitedError):
        usage.guard()
    usage.new_run()
    usage.guard()
    usage.record(f"{API}/limits", "api-usage=10/100")
    assert (usage.used, usage.max, usage.calls) == (10, 100, 2)
