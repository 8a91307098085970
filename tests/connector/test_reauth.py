"""An expired session is renewed once and the call repeated; twice in a row stops the run."""

from __future__ import annotations

import pytest
import responses

from config.errors import AuthenticationError
from connectors.salesforce import SalesforceClient
from tests.connector.conftest import API, add_token

EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
FRESH = "00D5g000000AbCd!AQ4AQfreshTokenValueXyZ0123456789"


def test_expired_session_is_renewed_once_and_the_call_succeeds(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", status=401, json=EXPIRED)
    add_token(sf, FRESH)
    sf.add(responses.GET, f"{API}/limits", json={"ok": True})
    assert client.limits() == {"ok": True}
    assert sf.calls[3].request.headers["Authorization"] == f"Bearer {FRESH}"
    assert client.transport.authentications == 2


def test_session_refused_twice_in_a_row_is_an_authentication_error(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", status=401, json=EXPIRED)
    add_token(sf, FRESH)
    sf.add(responses.GET, f"{API}/limits", status=401, json=EXPIRED)
    with pytest.raises(AuthenticationError, match="twice in a row"):
        client.limits()
    assert len(sf.calls) == 4


def test_bulk_poll_renews_an_expired_session(sf: responses.RequestsMock,
                                             client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.POST, f"{API}/jobs/query", json={"id": "750Q1", "state": "UploadComplete"})
    sf.add(responses.GET, f"{API}/jobs/query/750Q1", status=401, json=EXPIRED)
    add_token(sf, FRESH)
    sf.add(responses.GET, f"{API}/jobs/query/750Q1", json={"id": "750Q1", "state": "JobComplete"})
    sf.add(responses.GET, f"{API}/jobs/query/750Q1/results", body="Id\n0065g00000AAAAAAA1\n",
           headers={"Sforce-Locator": "null"})
    assert list(client.bulk_query("SELECT Id FROM Opportunity")) == [
        {"Id": "0065g00000AAAAAAA1"}]
    assert client.transport.authentications == 2


def test_simple_salesforce_is_rebuilt_on_the_fresh_session(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", status=401, json=EXPIRED)
    add_token(sf, FRESH)
    sf.add(responses.GET, f"{API}/limits", json={})
    before = client.simple_salesforce
    client.limits()
    after = client.simple_salesforce
    assert before is not after
    assert after.session_id == FRESH
