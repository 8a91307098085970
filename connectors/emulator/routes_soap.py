"""The SOAP partner API's ``login``: username and password followed by the security token.

simple-salesforce's ``Salesforce(username=, password=, security_token=)``, jsforce's
``conn.login()`` and older ETL tools log in this way, then use the REST and Bulk APIs with the
``sessionId`` they get and the host of ``serverUrl``. So the local org answers ``login`` at
``/services/Soap/u/{version}`` as Salesforce does: a ``loginResponse`` with the session, the
server URLs and ``userInfo``, or a ``LoginFault`` with ``INVALID_LOGIN`` (HTTP 500, as every
SOAP fault). A login is not an API call: Salesforce does not count it, nor does this org.
Other SOAP operations answer an ``UNKNOWN_EXCEPTION`` fault: the REST API does their work.
"""

from __future__ import annotations

import hmac
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.emulator.gate import OLDEST_VERSION, version_of
from connectors.emulator.org import Org
from connectors.emulator.routing import plain
from connectors.emulator.seed import ORG_NAME

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
SESSION_SECONDS = 7200
INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


def _escape(text: object) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _xml(status: int, body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + body, status_code=status,
                    media_type="text/xml; charset=utf-8")


def fault(code: str, message: str, fault_type: str = "UnexpectedErrorFault") -> Response:
    """A SOAP fault as the partner API writes it (the ``sf:`` prefix is what clients read)."""
    return _xml(500, (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f"<soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{code}: {_escape(message)}</faultstring><detail>"
        f'<sf:{fault_type} xsi:type="sf:{fault_type}">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{_escape(message)}</sf:exceptionMessage>"
        f"</sf:{fault_type}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"))


def _operation(raw: bytes) -> Element | None:
    """The first element of the envelope's Body, or None when the XML is no SOAP envelope."""
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return None
    body = root.find(f"{{{SOAP_ENV}}}Body")
    return body[0] if body is not None and len(body) else None


def _text(element: Element, name: str) -> str:
    child = element.find(f"{{{PARTNER}}}{name}")
    if child is None:
        child = element.find(name)
    return (child.text or "") if child is not None else ""


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def authenticate(org: Org, username: str, password: str) -> str | None:
    """The user id of an active user's login with the right password followed by the
    security token (``Credentials.login_of``)."""
    user = org.user_by_username(username)
    if user is None or not user["IsActive"]:
        return None
    secret, token = org.credentials.login_of(str(user["Username"]))
    if not _same(password, secret + token):
        return None
    return str(user["Id"])


def _value(tag: str, value: object) -> str:
    if value is None:
        return f'<{tag} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{_escape(value)}</{tag}>"


def login_response(org: Org, user_id: str, version: str, token: str) -> Response:
    user = org.user(user_id) or {}
    base = org.instance_url
    info: list[tuple[str, object]] = [
        ("accessibilityMode", False), ("chatterExternal", False), ("currencySymbol", "$"),
        ("orgAttachmentFileSizeLimit", 5242880), ("orgDefaultCurrencyIsoCode", "USD"),
        ("orgDefaultCurrencyLocale", "en_US"), ("orgDisallowHtmlAttachments", False),
        ("orgHasPersonAccounts", False), ("organizationId", org.org_id),
        ("organizationMultiCurrency", False), ("organizationName", ORG_NAME),
        ("profileId", user.get("ProfileId")), ("roleId", None),
        ("sessionSecondsValid", SESSION_SECONDS), ("userDefaultCurrencyIsoCode", None),
        ("userEmail", user.get("Email")), ("userFullName", user.get("Name")),
        ("userId", user_id), ("userLanguage", user.get("LanguageLocaleKey") or "en_US"),
        ("userLocale", user.get("LocaleSidKey") or "en_US"),
        ("userName", user.get("Username")),
        ("userTimeZone", user.get("TimeZoneSidKey") or "America/Los_Angeles"),
        ("userType", "Standard"), ("userUiSkin", "Theme3")]
    result = "".join([
        _value("metadataServerUrl", f"{base}/services/Soap/m/{version}/{org.org_id}"),
        _value("passwordExpired", False), _value("sandbox", False),
        _value("serverUrl", f"{base}/services/Soap/u/{version}/{org.org_id}"),
        _value("sessionId", token), _value("userId", user_id),
        "<userInfo>", *(_value(k, v) for k, v in info), "</userInfo>"])
    return _xml(200, (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns="{PARTNER}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f"<loginResponse><result>{result}</result></loginResponse>"
        "</soapenv:Body></soapenv:Envelope>"))


async def soap(request: Request) -> Response:
    org: Org = request.app.state.org
    version = version_of(request)
    if version is None:
        return fault("UNSUPPORTED_API_VERSION",
                     f"Invalid Api version specified on URL (oldest is {OLDEST_VERSION}.0)")
    operation = _operation(await request.body())
    if operation is None:
        return fault("INVALID_XML", "The request is not a SOAP envelope", "InvalidXmlFault")
    name = operation.tag.rpartition("}")[2]
    if name != "login":
        return fault("UNKNOWN_EXCEPTION",
                     f"The local org answers only login over SOAP, not {name}")
    user_id = authenticate(org, _text(operation, "username"), _text(operation, "password"))
    if user_id is None:
        return fault("INVALID_LOGIN", INVALID_LOGIN, "LoginFault")
    session = org.new_session(user_id)
    return login_response(org, user_id, version, session.token)


ROUTES: list[BaseRoute] = [
    *plain("/services/Soap/u/{version}", soap, ["POST"]),
    *plain("/services/Soap/u/{version}/{org_id}", soap, ["POST"]),
]
