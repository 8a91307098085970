"""Realism knobs: latency, 503s, dropped connections, session expiry, the daily API limit,
and how API calls are counted. Every fault is reproducible from its seed."""

import time

import pytest
import requests

from connectors.emulator.pytest_plugin import client_session

LIMITS = "/services/data/v59.0/limits"


def call(org, path=LIMITS, token=None, session=None):
    s = session or client_session(org)
    return s.get(org.instance_url + path,
                 headers={"Authorization": "Bearer " + (token or org.access_token())})


def test_latency_is_added_to_every_api_call(emulator):
    emulator.set_knobs(latency_ms=150)
    started = time.monotonic()
    call(emulator)
    assert time.monotonic() - started >= 0.15


def test_unavailable_answers_503_server_unavailable_and_is_not_counted(emulator):
    emulator.set_knobs(unavailable_rate=1.0)
    r = call(emulator)
    assert r.status_code == 503
    assert r.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert emulator.api_calls == 0


def test_dropped_connection_closes_the_socket_without_an_answer(emulator):
    emulator.set_knobs(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        call(emulator)
    emulator.set_knobs(drop_rate=0.0)
    assert call(emulator).status_code == 200


def outcomes(org, seed, n=30):
    org.reset(seed="empty")
    org.set_knobs(unavailable_rate=0.3)
    org.reseed_faults(seed)
    token = org.access_token()
    s = client_session(org)
    return [call(org, token=token, session=s).status_code for _ in range(n)]


def test_faults_repeat_exactly_for_the_same_seed(emulator_server):
    first, again = outcomes(emulator_server, 11), outcomes(emulator_server, 11)
    other = outcomes(emulator_server, 12)
    assert first == again
    assert 503 in first
    assert 200 in first
    assert other != first


def test_session_expires_after_n_calls_and_a_new_token_works(emulator):
    emulator.set_knobs(session_max_calls=2)
    token = emulator.access_token()
    s = client_session(emulator)
    assert [call(emulator, token=token, session=s).status_code for _ in range(3)] == \
        [200, 200, 401]
    assert call(emulator, session=s).status_code == 200


def test_session_expires_after_its_time_to_live(emulator):
    emulator.set_knobs(session_ttl_seconds=0.2)
    token = emulator.access_token()
    assert call(emulator, token=token).status_code == 200
    time.sleep(0.25)
    r = call(emulator, token=token)
    assert r.status_code == 401
    assert r.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_expire_sessions_invalidates_every_token_now(emulator):
    token = emulator.access_token()
    emulator.expire_sessions()
    assert call(emulator, token=token).status_code == 401


def test_daily_limit_answers_403_once_spent_until_reset(emulator):
    emulator.set_knobs(daily_api_limit=3)
    s = client_session(emulator)
    token = emulator.access_token()
    codes = [call(emulator, token=token, session=s).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 403]
    refused = call(emulator, token=token, session=s)
    assert refused.json() == [{"message": "TotalRequests Limit exceeded.",
                               "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"
    emulator.reset_api_usage()
    assert call(emulator, token=token, session=s).status_code == 200


def test_limits_endpoint_counts_itself_and_versions_do_not(emulator):
    s = client_session(emulator)
    s.get(emulator.instance_url + "/services/data")
    body = call(emulator, session=s).json()
    assert body["DailyApiRequests"] == {"Max": 100000, "Remaining": 99999}
    assert emulator.api_calls == 1


def test_unauthenticated_calls_are_not_counted(emulator):
    call(emulator, token="00Dbogus!x")
    assert emulator.api_calls == 0


def test_fault_rate_splits_into_503s_drops_and_locked_rows(tmp_path):
    from connectors.emulator.server import Emulator

    org = Emulator(seed="empty", fault_rate=0.2, latency_ms=5, daily_api_limit=7,
                   keys_dir=tmp_path)
    try:
        knobs = org.org.knobs
        assert (knobs.unavailable_rate, knobs.drop_rate, knobs.lock_rate) == (0.1, 0.1, 0.2)
        assert (knobs.latency_ms, knobs.daily_api_limit) == (5, 7)
    finally:
        org.stop()


def test_unknown_knob_is_refused(emulator):
    with pytest.raises(TypeError):
        emulator.set_knobs(chaos=True)


def test_daily_usage_is_a_rolling_24_hours():
    from connectors.emulator.knobs import ApiUsage

    now = [1000.0]
    usage = ApiUsage(clock=lambda: now[0])
    assert usage.take(2)
    assert usage.take(2)
    assert not usage.take(2)
    now[0] += 12 * 3600
    assert not usage.take(2)
    now[0] += 12 * 3600
    assert usage.used == 0
    assert usage.take(2)
