"""OAuth 2.0 endpoints of the local org: token (password, client credentials, JWT bearer,
refresh token), userinfo and the identity URL.

Token requests are not API calls (Salesforce does not count them), so these routes bypass
the API gate; errors use OAuth's ``{"error", "error_description"}`` shape.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.emulator.auth import (
    JWT_AUDIENCES,
    JwtKeyPair,
    OAuthError,
    signature,
    verify_assertion,
)
from connectors.emulator.errors import invalid_session
from connectors.emulator.gate import bearer_token, error_response, json_response
from connectors.emulator.org import Org
from connectors.emulator.routing import plain

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def token(request: Request) -> Response:
    org: Org = request.app.state.org
    raw = (await request.body()).decode()
    form = {k: v[0] for k, v in parse_qs(raw).items()}
    form.update({k: v for k, v in request.query_params.items() if k not in form})
    try:
        user_id, refresh = _grant(org, request.app.state.jwt_keys, form)
    except OAuthError as err:
        return json_response({"error": err.error, "error_description": err.description},
                             err.status)
    session = org.new_session(user_id)
    identity = f"{org.instance_url}/id/{org.org_id}/{user_id}"
    issued_at = str(session.issued_at_ms)
    body: dict[str, object] = {
        "access_token": session.token, "instance_url": org.instance_url, "id": identity,
        "token_type": "Bearer", "issued_at": issued_at, "scope": "api refresh_token",
        "signature": signature(org.credentials.client_secret, identity, issued_at)}
    if refresh:
        body["refresh_token"] = org.sessions.issue_refresh(user_id)
    return json_response(body)


def _client(org: Org, form: dict[str, str], secret_required: bool) -> None:
    creds = org.credentials
    if not _same(form.get("client_id", ""), creds.client_id):
        raise OAuthError("invalid_client_id", "client identifier invalid")
    secret = form.get("client_secret")
    if (secret_required or secret is not None) and not _same(secret or "", creds.client_secret):
        raise OAuthError("invalid_client", "invalid client credentials")


def _grant(org: Org, keys: JwtKeyPair, form: dict[str, str]) -> tuple[str, bool]:
    """(user id, whether to issue a refresh token) for a valid token request."""
    grant = form.get("grant_type", "")
    creds = org.credentials
    if grant == "password":
        _client(org, form, secret_required=True)
        user = org.user_by_username(form.get("username", ""))
        password = form.get("password", "")
        if user is None or not (_same(password, creds.password)
                                or password.startswith(creds.password)) \
                or user["Username"] != creds.username or not user["IsActive"]:
            raise OAuthError("invalid_grant", "authentication failure")
        return str(user["Id"]), True
    if grant == "client_credentials":
        _client(org, form, secret_required=True)
        return org.integration_user_id, False
    if grant == JWT_GRANT:
        audiences = (*JWT_AUDIENCES, org.instance_url)
        username = verify_assertion(form.get("assertion", ""), keys.public_key_pem(),
                                    creds.client_id, audiences)
        user = org.user_by_username(username)
        if user is None or not user["IsActive"]:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return str(user["Id"]), False
    if grant == "refresh_token":
        _client(org, form, secret_required=False)
        user_id = org.sessions.user_for_refresh(form.get("refresh_token", ""))
        if user_id is None:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        return user_id, False
    raise OAuthError("unsupported_grant_type", "grant type not supported")


async def userinfo(request: Request) -> Response:
    org: Org = request.app.state.org
    found = bearer_token(request)
    knobs = org.knobs
    session = org.sessions.find(found, knobs.session_max_calls,
                                knobs.session_ttl_seconds) if found else None
    if session is None:
        return error_response(invalid_session())
    user = org.user(session.user_id) or {}
    identity = f"{org.instance_url}/id/{org.org_id}/{session.user_id}"
    return json_response({
        "sub": identity, "user_id": session.user_id, "organization_id": org.org_id,
        "preferred_username": user.get("Username"), "nickname": user.get("Alias"),
        "name": user.get("Name"), "email": user.get("Email"), "email_verified": True,
        "given_name": user.get("FirstName"), "family_name": user.get("LastName"),
        "zoneinfo": user.get("TimeZoneSidKey"), "locale": user.get("LocaleSidKey"),
        "language": user.get("LanguageLocaleKey"), "active": bool(user.get("IsActive")),
        "user_type": "STANDARD", "is_app_installed": True, "utcOffset": 0,
        "urls": {"rest": f"{org.instance_url}/services/data/v{{version}}/",
                 "sobjects": f"{org.instance_url}/services/data/v{{version}}/sobjects/",
                 "query": f"{org.instance_url}/services/data/v{{version}}/query/",
                 "profile": f"{org.instance_url}/{session.user_id}"},
        "username": user.get("Username"), "display_name": user.get("Name"),
        "organization_id_18": org.org_id, "id": identity})


async def revoke(request: Request) -> Response:
    return Response(status_code=200)


ROUTES: list[BaseRoute] = [
    *plain("/services/oauth2/token", token, ["POST"]),
    *plain("/services/oauth2/userinfo", userinfo, ["GET", "POST"]),
    *plain("/services/oauth2/revoke", revoke, ["POST", "GET"]),
    *plain("/id/{org_id}/{user_id}", userinfo, ["GET", "POST"]),
]
