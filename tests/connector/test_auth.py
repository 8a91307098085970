"""Each OAuth flow sends the request Salesforce expects, against any SF_LOGIN_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from config.errors import AuthenticationError, ConfigurationError, RetryableError
from connectors.salesforce import SalesforceClient
from tests.connector.conftest import (
    ACCESS_TOKEN,
    API,
    CLIENT_SECRET,
    INSTANCE,
    LOGIN,
    ORG_ID,
    TOKEN_URL,
    USER_ID,
    Sleeps,
    make_settings,
    token_payload,
)

NOW = 1_763_770_000.0


def form_of(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {k: v[0] for k, v in parse_qs(text).items()}


def test_client_credentials_posts_id_and_secret_to_the_login_url(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, json=token_payload())
    token = client.connect()
    assert form_of(sf.calls[0]) == {"grant_type": "client_credentials",
                                    "client_id": "3MVG9testclientid",
                                    "client_secret": CLIENT_SECRET}
    assert token.instance_url == INSTANCE
    assert token.access_token.get_secret_value() == ACCESS_TOKEN


def test_identity_of_the_session_comes_from_the_token_response_id_url(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, json=token_payload())
    assert (client.org_id, client.user_id) == (ORG_ID, USER_ID)


def test_jwt_bearer_assertion_is_signed_rs256_for_the_user_with_a_short_expiry(
        sf: responses.RequestsMock, rsa_key_file: Path, sleeps: Sleeps) -> None:
    settings = make_settings(sf_client_secret=None, sf_username="integration@acme.example",
                             sf_private_key_file=rsa_key_file,
                             sf_login_url="https://acme.my.salesforce.com/")
    sf.add(responses.POST, "https://acme.my.salesforce.com/services/oauth2/token",
           json=token_payload())
    SalesforceClient(settings, sleep=sleeps, clock=lambda: NOW).connect()
    form = form_of(sf.calls[0])
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    key = serialization.load_pem_private_key(rsa_key_file.read_bytes(), password=None)
    claims = jwt.decode(form["assertion"], key.public_key(),  # type: ignore[arg-type]
                        algorithms=["RS256"], audience="https://login.salesforce.com",
                        options={"verify_exp": False})
    assert claims["iss"] == "3MVG9testclientid"
    assert claims["sub"] == "integration@acme.example"
    assert NOW < claims["exp"] <= NOW + 300
    assert jwt.get_unverified_header(form["assertion"])["alg"] == "RS256"


def _jwt_audience_sent(sf: responses.RequestsMock, key_file: Path, login_url: str,
                       **overrides: object) -> str:
    settings = make_settings(sf_client_secret=None, sf_username="integration@acme.example",
                             sf_private_key_file=key_file, sf_login_url=login_url, **overrides)
    sf.add(responses.POST, login_url.rstrip("/") + "/services/oauth2/token",
           json=token_payload())
    SalesforceClient(settings, sleep=lambda _s: None, clock=lambda: NOW).connect()
    assert sf.calls[-1].request.url == login_url.rstrip("/") + "/services/oauth2/token"
    claims = jwt.decode(form_of(sf.calls[-1])["assertion"], options={"verify_signature": False})
    return str(claims["aud"])


@pytest.mark.parametrize(("login_url", "audience"), [
    ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
    ("https://login.salesforce.com", "https://login.salesforce.com"),
    ("https://test.salesforce.com", "https://test.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
])
def test_jwt_audience_is_the_login_host_salesforce_names_not_the_my_domain(
        sf: responses.RequestsMock, rsa_key_file: Path, login_url: str, audience: str) -> None:
    assert _jwt_audience_sent(sf, rsa_key_file, login_url) == audience


def test_jwt_audience_setting_overrides_the_default(
        sf: responses.RequestsMock, rsa_key_file: Path) -> None:
    assert _jwt_audience_sent(sf, rsa_key_file, "https://acme.my.salesforce.com",
                              sf_jwt_audience="https://127.0.0.1:8443/") == \
        "https://127.0.0.1:8443"


@pytest.mark.parametrize("login_url", ["https://login.salesforce.com",
                                       "https://test.salesforce.com/"])
def test_client_credentials_at_a_shared_login_host_is_a_configuration_error(
        sf: responses.RequestsMock, login_url: str) -> None:
    settings = make_settings(sf_login_url=login_url)
    assert any("My Domain" in p for p in settings.salesforce_problems())
    with pytest.raises(ConfigurationError, match="My Domain"):
        SalesforceClient(settings, sleep=lambda _s: None).connect()
    assert not sf.calls  # nothing was sent to a host that cannot answer this flow


def test_password_flow_sends_user_password_and_connected_app(
        sf: responses.RequestsMock, sleeps: Sleeps) -> None:
    settings = make_settings(sf_username="integration@acme.example",
                             sf_password=SecretStr("hunter2-and-token"))
    sf.add(responses.POST, TOKEN_URL, json=token_payload())
    SalesforceClient(settings, sleep=sleeps).connect()
    assert form_of(sf.calls[0]) == {
        "grant_type": "password", "client_id": "3MVG9testclientid",
        "client_secret": CLIENT_SECRET, "username": "integration@acme.example",
        "password": "hunter2-and-token"}


def test_calls_go_to_the_instance_url_with_the_bearer_token(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, json=token_payload())
    sf.add(responses.GET, f"{API}/limits", json={"DailyApiRequests": {"Max": 15000}})
    client.limits()
    assert sf.calls[1].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_refused_grant_is_an_authentication_error_with_salesforce_description(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, status=400,
           json={"error": "invalid_grant", "error_description": "authentication failure"})
    with pytest.raises(AuthenticationError) as caught:
        client.connect()
    assert "invalid_grant: authentication failure" in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)


def test_refused_client_is_a_configuration_error(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, status=400,
           json={"error": "invalid_client", "error_description": "invalid client credentials"})
    with pytest.raises(ConfigurationError, match="invalid client credentials"):
        client.connect()


def test_a_description_echoing_the_secret_is_redacted(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, status=400,
           json={"error": "invalid_grant", "error_description": f"bad secret {CLIENT_SECRET}"})
    with pytest.raises(AuthenticationError) as caught:
        client.connect()
    assert CLIENT_SECRET not in str(caught.value)
    assert "bad secret ***" in str(caught.value)


def test_token_endpoint_outage_is_retried_then_reraised(
        sf: responses.RequestsMock, client: SalesforceClient, sleeps: Sleeps) -> None:
    for _ in range(4):
        sf.add(responses.POST, TOKEN_URL, status=503, body="down")
    with pytest.raises(RetryableError):
        client.connect()
    assert len(sf.calls) == 4
    assert len(sleeps) == 3


def test_unreadable_private_key_is_a_configuration_error(
        tmp_path: Path, sleeps: Sleeps) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    settings = make_settings(sf_client_secret=None, sf_username="u@example.com",
                             sf_private_key_file=bad)
    with pytest.raises(ConfigurationError, match="not an RSA private key"):
        SalesforceClient(settings, sleep=sleeps).connect()


def test_token_never_shows_in_its_repr(sf: responses.RequestsMock,
                                       client: SalesforceClient) -> None:
    sf.add(responses.POST, TOKEN_URL, json=token_payload())
    token = client.connect()
    assert ACCESS_TOKEN not in repr(token)
    assert ACCESS_TOKEN not in repr(client)
    assert LOGIN in repr(client)
