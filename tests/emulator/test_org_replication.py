"""Get Updated and Get Deleted as Salesforce answers them: whole minutes, a start before the
end and within reach, ``latestDateCovered`` never past now nor past a write still to commit,
and both riding in a Composite request beside its five queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.emulator.pytest_plugin import client_session, salesforce_client
from connectors.emulator.server import Emulator

NOW = datetime(2030, 1, 2, 10, 7, 42, tzinfo=UTC)


@pytest.fixture
def org(emulator: Emulator) -> Iterator[Emulator]:
    """The empty org at a fixed time (10:07:42), so minutes are known."""
    emulator.org.set_clock(lambda: NOW)
    yield emulator
    emulator.org.set_clock(lambda: datetime.now(UTC))


def _get(org: Emulator, path: str) -> Any:
    headers = {"Authorization": "Bearer " + org.access_token()}
    return client_session(org).get(f"{org.instance_url}/services/data/v59.0/{path}",
                                   headers=headers)


def _window(start: str, end: str) -> str:
    return f"?start={start}&end={end}"


def test_updated_ignores_seconds_and_covers_no_later_than_the_orgs_now(org: Emulator) -> None:
    account = salesforce_client(org).Account.create({"Name": "Stamped 10:07:42"})["id"]
    answer = _get(org, "sobjects/Account/updated/"
                  + _window("2030-01-02T10:05:59Z", "2030-01-02T11:00:30Z")).json()
    assert answer["latestDateCovered"] == "2030-01-02T10:07:00.000+0000"
    assert account in answer["ids"]  # committed, so named, though past what is covered
    earlier = _get(org, "sobjects/Account/updated/"
                   + _window("2030-01-02T10:05:00Z", "2030-01-02T10:07:59Z")).json()
    assert earlier == {"ids": [], "latestDateCovered": "2030-01-02T10:07:00.000+0000"}


@pytest.mark.parametrize(("start", "end"), [
    ("2030-01-02T10:06:10Z", "2030-01-02T10:06:50Z"),  # the same minute, seconds ignored
    ("2030-01-02T10:07:00Z", "2030-01-02T10:06:00Z"),  # start after end
])
def test_window_not_a_minute_long_is_refused_as_salesforce_does(org: Emulator, start: str,
                                                                end: str) -> None:
    for kind in ("updated", "deleted"):
        refused = _get(org, f"sobjects/Account/{kind}/" + _window(start, end))
        assert refused.status_code == 400
        assert refused.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_start_beyond_what_salesforce_keeps_is_refused(org: Emulator) -> None:
    twenty_days = (NOW - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = _window(twenty_days, "2030-01-02T10:00:00Z")
    assert _get(org, "sobjects/Account/updated/" + window).status_code == 200
    refused = _get(org, "sobjects/Account/deleted/" + window)  # the recycle bin keeps 15 days
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    forty_days = (NOW - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    too_old = _get(org, "sobjects/Account/updated/" + _window(forty_days, "2030-01-02T10:00:00Z"))
    assert too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_latest_date_covered_stays_before_a_write_that_may_still_commit_late(
        org: Emulator) -> None:
    org.set_knobs(late_stamp_rate=0.5, late_stamp_ms=120_000)  # commits up to two minutes late
    try:
        answer = _get(org, "sobjects/Account/updated/"
                      + _window("2030-01-02T10:00:00Z", "2030-01-02T10:07:00Z")).json()
    finally:
        org.set_knobs(late_stamp_rate=0.0, late_stamp_ms=2_000)
    assert answer["latestDateCovered"] == "2030-01-02T10:05:00.000+0000"


def test_updated_and_deleted_ride_beside_five_queries_in_one_composite_call(
        org: Emulator) -> None:
    window = _window("2030-01-02T10:00:00Z", "2030-01-02T10:07:00Z")
    base = "/services/data/v59.0"
    subs = [{"method": "GET", "referenceId": f"q{n}",
             "url": f"{base}/queryAll?q=SELECT+Id+FROM+Account"} for n in range(5)]
    subs += [{"method": "GET", "referenceId": f"r{kind}",
              "url": f"{base}/sobjects/OpportunityContactRole/{kind}/{window}"}
             for kind in ("updated", "deleted")]
    before = org.api_calls
    response = client_session(org).post(
        f"{org.instance_url}{base}/composite", json={"compositeRequest": subs},
        headers={"Authorization": "Bearer " + org.access_token()})
    answers = response.json()["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [200] * 7
    assert answers[5]["body"]["latestDateCovered"] == "2030-01-02T10:07:00.000+0000"
    assert org.api_calls == before + 1


def test_a_window_naming_more_ids_than_salesforce_answers_is_refused_whole(
        org: Emulator) -> None:
    org.org.set_knobs(replication_id_limit=2)  # Salesforce's: 600,000
    sf = salesforce_client(org)
    accounts = [sf.Account.create({"Name": f"Account {n}"})["id"] for n in range(3)]
    window = _window("2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z")
    refused = _get(org, "sobjects/Account/updated/" + window)
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    for account in accounts[:2]:
        sf.Account.delete(account)
    assert _get(org, "sobjects/Account/deleted/" + window).status_code == 200  # two: answered
    # the deleted two are no longer updated ones: the one left is answered
    assert _get(org, "sobjects/Account/updated/" + window).json()["ids"] == accounts[2:]
