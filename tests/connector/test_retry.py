"""One retry policy: only RetryableError, bounded, exponential with jitter, never sleeping."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses

from config.errors import RetryableError, SkippableRecordError
from connectors.salesforce import SalesforceClient
from connectors.salesforce.errors import ConcurrentLimitError
from connectors.salesforce.retry import RetryPolicy
from tests.connector.conftest import API, Sleeps, add_token


def test_transient_failures_are_retried_until_success(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", status=503, body="")
    sf.add(responses.GET, f"{API}/limits", status=500,
           json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}])
    sf.add(responses.GET, f"{API}/limits", json={"DailyApiRequests": {"Max": 15000}})
    assert client.limits() == {"DailyApiRequests": {"Max": 15000}}
    assert len(sleeps) == 2


def test_retries_stop_after_the_configured_attempts_and_reraise(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient],
        sleeps: Sleeps) -> None:
    client = make_client(sf_retry_attempts=3)
    add_token(sf)
    for _ in range(3):
        sf.add(responses.GET, f"{API}/limits", status=503, body="")
    with pytest.raises(RetryableError, match="503"):
        client.limits()
    assert len(sf.calls) == 1 + 3
    assert len(sleeps) == 2


def test_connection_errors_are_retried(sf: responses.RequestsMock, client: SalesforceClient,
                                       sleeps: Sleeps) -> None:
    import requests

    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", body=requests.ConnectionError("connection reset"))
    sf.add(responses.GET, f"{API}/limits", body=requests.Timeout("read timed out"))
    sf.add(responses.GET, f"{API}/limits", json={})
    assert client.limits() == {}
    assert len(sleeps) == 2


def test_a_permanent_error_is_not_retried(sf: responses.RequestsMock, client: SalesforceClient,
                                          sleeps: Sleeps) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/sobjects/Opportunity/describe", status=403,
           json=[{"errorCode": "INSUFFICIENT_ACCESS", "message": "no access"}])
    with pytest.raises(SkippableRecordError):
        client.describe("Opportunity")
    assert sleeps == []


def test_waits_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    low = RetryPolicy(attempts=10, max_wait=8.0, rng=lambda: 0.0)
    high = RetryPolicy(attempts=10, max_wait=8.0, rng=lambda: 1.0)
    assert [low.wait_seconds(n, None) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [high.wait_seconds(n, None) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]


def test_too_many_concurrent_requests_back_off_briefly() -> None:
    policy = RetryPolicy(attempts=10, max_wait=30.0, rng=lambda: 1.0)
    error = ConcurrentLimitError("ConcurrentPerOrgLongTxn Limit exceeded.")
    assert policy.wait_seconds(6, error) == 2.0
    assert policy.wait_seconds(6, RetryableError("busy")) == 30.0


def test_policy_sleeps_through_the_injected_sleep() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=3, max_wait=8.0, sleep=sleeps, rng=lambda: 1.0)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryableError("busy")
        return "done"

    assert policy.call(flaky) == "done"
    assert sleeps == [1.0, 2.0]
