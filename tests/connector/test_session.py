"""The session: timeouts on every request, the call-options header, and a CA that holds."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import responses
import trustme

from config.errors import ConfigurationError
from connectors.salesforce import SalesforceClient
from connectors.salesforce.session import build_session
from tests.connector.conftest import API, TOKEN_URL, add_token, make_settings


def test_every_request_carries_the_configured_timeouts(
        sf: responses.RequestsMock, make_client: Callable[..., SalesforceClient]) -> None:
    client = make_client(sf_connect_timeout=3.5, sf_read_timeout=42.0)
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", json={})
    client.limits()
    timeouts = [getattr(c.request, "req_kwargs", {})["timeout"] for c in sf.calls]
    assert timeouts == [(3.5, 42.0), (3.5, 42.0)]


def test_every_request_names_mapsync_in_call_options(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits", json={})
    client.limits()
    assert all(c.request.headers["Sforce-Call-Options"] == "client=mapsync" for c in sf.calls)


def test_simple_salesforce_calls_share_the_session_and_are_counted(
        sf: responses.RequestsMock, client: SalesforceClient) -> None:
    add_token(sf)
    sf.add(responses.GET, f"{API}/limits/", json={},
           headers={"Sforce-Limit-Info": "api-usage=9/100"})
    client.simple_salesforce.limits()
    assert getattr(sf.calls[1].request, "req_kwargs", {})["timeout"] is not None
    assert (client.usage.calls, client.usage.used) == (1, 9)


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b'{"error": "invalid_grant", "error_description": "only a TLS check"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A local HTTPS server whose certificate is signed by a CA only ``ca.pem`` holds."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}", ca_file
    finally:
        server.shutdown()
        server.server_close()


def test_requests_ca_bundle_in_the_environment_would_override_a_plain_session(
        tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The trap this session avoids: requests lets the environment replace session.verify."""
    url, ca_file = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    plain = requests.Session()
    plain.verify = str(ca_file)
    with pytest.raises(requests.exceptions.SSLError):
        plain.post(url + "/services/oauth2/token", timeout=5)


def test_sf_ca_bundle_is_trusted_even_when_requests_ca_bundle_is_set(
        tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, ca_file = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    session = build_session(make_settings(sf_login_url=url, sf_ca_bundle=ca_file))
    response = session.post(url + "/services/oauth2/token")
    assert response.status_code == 400


def test_verification_cannot_be_switched_off_per_request(
        tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    session = build_session(make_settings(sf_login_url=url))  # no SF_CA_BUNDLE
    with pytest.raises(requests.exceptions.SSLError):
        session.post(url + "/services/oauth2/token", verify=False)


def test_untrusted_certificate_is_a_configuration_error_not_retried(
        tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    slept: list[float] = []
    client = SalesforceClient(make_settings(sf_login_url=url, sf_retry_attempts=3),
                              sleep=slept.append)
    with pytest.raises(ConfigurationError, match="SF_CA_BUNDLE"):
        client.connect()
    assert slept == []


def test_login_through_the_trusted_ca_reaches_the_server(
        tls_server: tuple[str, Path]) -> None:
    from config.errors import AuthenticationError

    url, ca_file = tls_server
    client = SalesforceClient(make_settings(sf_login_url=url, sf_ca_bundle=ca_file))
    with pytest.raises(AuthenticationError, match="only a TLS check"):
        client.connect()


def test_token_url_is_built_from_any_login_url() -> None:
    from connectors.salesforce.auth import token_url

    assert token_url(make_settings(sf_login_url="https://acme--uat.sandbox.my.salesforce.com/")
                     ) == "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token"
    assert TOKEN_URL.endswith("/services/oauth2/token")
