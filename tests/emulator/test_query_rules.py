"""What Salesforce documents about reading large results, enforced by the local org.

Bulk API 2.0 query refuses GROUP BY, OFFSET, TYPEOF, aggregate functions and parent-to-child
subqueries, and returns rows in no particular order; REST query cursors follow "API Query
Cursor Limits": since API 56.0 any number may be open and each lives 2 days, before 56.0 a
user had 10 (the oldest released) that expired after 15 idle minutes.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import BulkClient, accounts, rows_of


@pytest.mark.parametrize(("soql", "what"), [
    ("SELECT Id FROM Account LIMIT 10 OFFSET 5", "OFFSET"),
    ("SELECT Industry FROM Account GROUP BY Industry", "GROUP BY"),
    ("SELECT COUNT() FROM Account", "Aggregate functions"),
    ("SELECT MAX(NumberOfEmployees) FROM Account", "Aggregate functions"),
    ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "Parent-to-child"),
])
def test_bulk_query_refuses_what_bulk_api_2_does_not_support(bulk, soql, what):
    r = bulk.call("POST", "query", json={"operation": "query", "query": soql})
    assert r.status_code == 400
    [error] = r.json()
    assert error["errorCode"] == "INVALIDJOB"
    assert what in error["message"]
    assert "Bulk API 2.0" in error["message"]


def test_bulk_query_words_inside_string_literals_are_not_clauses(emulator, bulk):
    accounts(emulator, 2)
    job = bulk.query("SELECT Id FROM Account WHERE Name != 'OFFSET 5 GROUP BY (SELECT'")
    assert job["state"] == "JobComplete"
    assert job["numberRecordsProcessed"] == 2


def _ids(bulk: BulkClient, soql: str) -> list[str]:
    job = bulk.query(soql)
    return [r["Id"] for r in rows_of(bulk.call("GET", f"query/{job['id']}/results").text)]


def test_bulk_query_rows_come_back_in_no_particular_order(emulator, bulk):
    ids = accounts(emulator, 300)
    first, second = (_ids(bulk, "SELECT Id FROM Account") for _ in range(2))
    assert sorted(first) == sorted(second) == sorted(ids)
    assert first != sorted(first)
    assert first != second


def test_bulk_query_with_order_by_keeps_its_order(emulator, bulk):
    ids = accounts(emulator, 300)
    assert _ids(bulk, "SELECT Id FROM Account ORDER BY Id") == sorted(ids)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _open_cursor(org: Emulator, version: str = "59.0") -> tuple[Any, str]:
    """A session and the nextRecordsUrl of a query whose rows need a second page."""
    s = client_session(org)
    s.headers.update({"Authorization": "Bearer " + org.access_token(),
                      "Sforce-Query-Options": "batchSize=200"})
    first = s.get(f"{org.instance_url}/services/data/v{version}/query",
                  params={"q": "SELECT Id FROM Account"}).json()
    return s, first["nextRecordsUrl"]


def _follow(org: Emulator, session: Any, url: str) -> Any:
    return session.get(org.instance_url + url)


@pytest.fixture
def clock(emulator: Emulator) -> Clock:
    accounts(emulator, 250)
    tick = Clock()
    emulator.org.cursors.clock = tick
    return tick


def test_rest_cursors_have_no_open_limit_since_api_56(emulator, clock):
    opened = [_open_cursor(emulator) for _ in range(30)]
    for session, url in opened:  # the first one too: nothing was released
        page = _follow(emulator, session, url)
        assert page.status_code == 200
        assert len(page.json()["records"]) == 50


def test_rest_cursor_lives_two_days_after_its_query(emulator, clock):
    session, url = _open_cursor(emulator)
    clock.now += 2 * 24 * 3600 - 60
    assert _follow(emulator, session, url).status_code == 200
    session, url = _open_cursor(emulator)
    clock.now += 2 * 24 * 3600 + 1
    gone = _follow(emulator, session, url)
    assert gone.status_code == 400
    assert gone.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_before_api_56_a_user_keeps_ten_cursors_the_oldest_released(emulator, clock):
    opened = [_open_cursor(emulator, "55.0") for _ in range(11)]
    oldest = _follow(emulator, *opened[0])
    assert oldest.status_code == 400
    assert oldest.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert all(_follow(emulator, *o).status_code == 200 for o in opened[1:])


def test_before_api_56_a_cursor_expires_after_fifteen_idle_minutes(emulator, clock):
    session, url = _open_cursor(emulator, "55.0")
    clock.now += 15 * 60 + 1
    assert _follow(emulator, session, url).status_code == 400
