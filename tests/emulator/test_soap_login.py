"""simple-salesforce's username / password / security-token login against the local org.

The client is unmodified: it builds ``https://login.salesforce.com/services/Soap/u/59.0`` and
only its login host is redirected (``LoginProxy``), as tap-salesforce's and Airbyte's are in
the peer benchmark. Everything after the login goes to the ``serverUrl`` the org answered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from connectors.emulator.login_proxy import LoginProxy
from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator

VERSION = "59.0"


@pytest.fixture
def proxy(emulator_server: Emulator) -> Iterator[LoginProxy]:
    """The login-host redirect to the session's server (whichever org a test reset it to)."""
    with LoginProxy(emulator_server) as running:
        yield running


def redirected_session(org: Emulator, proxy: LoginProxy) -> requests.Session:
    session = client_session(org)
    session.proxies = {"https": proxy.url}
    return session


def soap_login(org: Emulator, proxy: LoginProxy, password: str) -> Salesforce:
    return Salesforce(username=org.username, password=password,
                      security_token=org.security_token, domain="login",
                      session=redirected_session(org, proxy), version=VERSION)


def test_soap_login_with_password_and_token_gives_a_working_session(
        emulator: Emulator, proxy: LoginProxy) -> None:
    sf = soap_login(emulator, proxy, emulator.password)
    assert sf.sf_instance == f"127.0.0.1:{emulator.port}"
    assert sf.session_id.startswith(emulator.org.org_id[:15] + "!")
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1
    # the login went to Salesforce's login host; the query to the serverUrl it answered
    assert proxy.tunnelled[0] == "login.salesforce.com:443"
    assert proxy.refused == []


def test_soap_login_wrong_password_is_invalid_login_fault(
        emulator: Emulator, proxy: LoginProxy) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        soap_login(emulator, proxy, emulator.password + "x")
    assert failed.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in str(failed.value)


def test_soap_login_without_the_security_token_is_refused(emulator: Emulator) -> None:
    body = ('<?xml version="1.0" encoding="utf-8" ?><env:Envelope '
            'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
            '<n1:login xmlns:n1="urn:partner.soap.sforce.com">'
            f"<n1:username>{emulator.username}</n1:username>"
            f"<n1:password>{emulator.password}</n1:password></n1:login></env:Body>"
            "</env:Envelope>")
    r = client_session(emulator).post(f"{emulator.instance_url}/services/Soap/u/{VERSION}",
                                      data=body, headers={"SOAPAction": "login",
                                                          "Content-Type": "text/xml"})
    assert r.status_code == 500
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in r.text
    assert emulator.password not in r.text


def test_soap_login_answers_server_url_and_user_info(emulator: Emulator) -> None:
    body = ('<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
            '<n1:login xmlns:n1="urn:partner.soap.sforce.com">'
            f"<n1:username>{emulator.username}</n1:username>"
            f"<n1:password>{emulator.password}{emulator.security_token}</n1:password>"
            "</n1:login></env:Body></env:Envelope>")
    r = client_session(emulator).post(f"{emulator.instance_url}/services/Soap/u/{VERSION}",
                                      data=body, headers={"SOAPAction": "login",
                                                          "Content-Type": "text/xml"})
    assert r.status_code == 200
    org_id = emulator.org.org_id
    assert (f"<serverUrl>{emulator.instance_url}/services/Soap/u/{VERSION}/{org_id}"
            "</serverUrl>") in r.text
    assert f"<userName>{emulator.username}</userName>" in r.text
    assert f"<organizationId>{org_id}</organizationId>" in r.text
    # a login is not an API call
    assert emulator.api_calls == 0


def test_login_proxy_refuses_any_host_but_the_login_hosts(
        emulator: Emulator, proxy: LoginProxy) -> None:
    session = redirected_session(emulator, proxy)
    with pytest.raises(requests.exceptions.ProxyError):
        session.get("https://example.com/", timeout=10)
    assert proxy.refused == ["example.com:443"]


def test_soap_login_as_a_rep_opens_a_session_of_that_rep(
        demo_org: Emulator, proxy: LoginProxy) -> None:
    username = "maya.chen@northwind.example"
    password, token = demo_org.login_of(username)
    sf = Salesforce(username=username, password=password, security_token=token,
                    session=redirected_session(demo_org, proxy), version=VERSION)
    rep = demo_org.org.user_by_username(username)
    assert rep is not None
    session = demo_org.org.sessions.find(sf.session_id, None, None)
    assert session is not None
    assert session.user_id == rep["Id"]
    # another user's password is not this rep's
    other, other_token = demo_org.login_of("jordan.blake@northwind.example")
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(username=username, password=other, security_token=other_token,
                   session=redirected_session(demo_org, proxy), version=VERSION)
