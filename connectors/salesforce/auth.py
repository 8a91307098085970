"""Getting a Salesforce session: the OAuth token request for each configured flow.

simple-salesforce's login helpers only know ``https://{domain}.salesforce.com``; mapsync must
log in against any ``SF_LOGIN_URL`` (a My Domain, the sandbox host, the local emulator), so it
makes the token request itself — client credentials, JWT bearer (an RS256 assertion signed with
the connected app's private key), or the legacy password flow — and hands the resulting
``instance_url`` and access token on. Refusals become ConfigurationError (the connected app is
misconfigured) or AuthenticationError (the user cannot log in), carrying Salesforce's
``error_description`` and never a secret; the access token itself is kept as a SecretStr.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests
import structlog
from pydantic import SecretStr

from config.errors import AuthenticationError, ConfigurationError, FatalError, RetryableError
from config.settings import GENERIC_LOGIN_HOSTS, AuthMode, Settings
from connectors.salesforce.errors import error_from_network, unreachable_reason

log = structlog.get_logger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180
# The connected app (client id, secret, certificate, enabled flows) is wrong: an admin fixes
# the configuration. Anything else refused is the user's login failing.
_CONFIGURATION_ERRORS = frozenset({
    "invalid_client", "invalid_client_id", "invalid_client_credentials",
    "unsupported_grant_type", "invalid_request", "unauthorized_client", "invalid_app_access",
})


@dataclass(frozen=True)
class Token:
    """One access token and where to use it; ``repr`` never shows the token."""

    access_token: SecretStr
    instance_url: str
    identity_url: str
    issued_at: str | None = None

    @property
    def org_id(self) -> str | None:
        """The organization's Id, from the identity URL ``…/id/{orgId}/{userId}``."""
        parts = urlsplit(self.identity_url).path.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 3 and parts[-3] == "id" else None

    @property
    def user_id(self) -> str | None:
        """The integration user's Id, from the identity URL."""
        parts = urlsplit(self.identity_url).path.rstrip("/").split("/")
        return parts[-1] if len(parts) >= 3 and parts[-3] == "id" else None


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def token_url(settings: Settings) -> str:
    if not settings.sf_login_url:
        raise ConfigurationError("SF_LOGIN_URL is not set")
    return settings.sf_login_url.rstrip("/") + "/services/oauth2/token"


PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"


def jwt_audience(settings: Settings) -> str:
    """The ``aud`` claim Salesforce expects: ``https://login.salesforce.com``, or
    ``https://test.salesforce.com`` for a sandbox (``SF_LOGIN_URL`` at test.salesforce.com
    or a ``*.sandbox.my.salesforce.com`` My Domain). Salesforce does not accept the My
    Domain URL as audience, even though the token request itself goes there;
    ``SF_JWT_AUDIENCE`` overrides (a local org accepts its own URL)."""
    if settings.sf_jwt_audience:
        return settings.sf_jwt_audience.rstrip("/")
    host = (urlsplit(settings.sf_login_url or "").hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX_AUDIENCE
    return PRODUCTION_AUDIENCE


def jwt_assertion(settings: Settings, now: float) -> str:
    """A signed JWT bearer assertion: iss = client id, sub = username, aud = login URL, short
    expiry."""
    key_file = settings.sf_private_key_file
    if key_file is None or not settings.sf_username or not settings.sf_client_id:
        raise ConfigurationError("JWT bearer needs SF_CLIENT_ID, SF_USERNAME and "
                                 "SF_PRIVATE_KEY_FILE")
    try:
        key = key_file.read_bytes()
    except OSError as err:
        raise ConfigurationError(f"SF_PRIVATE_KEY_FILE cannot be read: {key_file} "
                                 f"({err.strerror})") from None
    claims = {"iss": settings.sf_client_id, "sub": settings.sf_username,
              "aud": jwt_audience(settings),
              "exp": int(now) + JWT_LIFETIME_SECONDS}
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        raise ConfigurationError(f"SF_PRIVATE_KEY_FILE is not an RSA private key in PEM "
                                 f"format: {key_file}") from None


def token_form(settings: Settings, now: float) -> dict[str, str]:
    """The form body of the token request for the configured flow."""
    mode = settings.auth_mode
    client_id = settings.sf_client_id or ""
    if mode is AuthMode.JWT_BEARER:
        return {"grant_type": JWT_GRANT, "assertion": jwt_assertion(settings, now)}
    secret = settings.sf_client_secret.get_secret_value() if settings.sf_client_secret else ""
    if mode is AuthMode.CLIENT_CREDENTIALS:
        host = urlsplit(settings.sf_login_url or "").hostname
        if host in GENERIC_LOGIN_HOSTS:
            raise ConfigurationError(
                f"the client credentials flow needs the org's My Domain as SF_LOGIN_URL "
                f"(https://<your-domain>.my.salesforce.com), not {settings.sf_login_url}")
        return {"grant_type": "client_credentials", "client_id": client_id,
                "client_secret": secret}
    if mode is AuthMode.PASSWORD:
        password = settings.sf_password.get_secret_value() if settings.sf_password else ""
        return {"grant_type": "password", "client_id": client_id, "client_secret": secret,
                "username": settings.sf_username or "", "password": password}
    raise ConfigurationError("no Salesforce credentials configured: set SF_CLIENT_SECRET, or "
                             "SF_USERNAME + SF_PRIVATE_KEY_FILE, or SF_USERNAME + SF_PASSWORD")


def _secrets_of(settings: Settings, form: dict[str, str]) -> list[str]:
    return [*settings.secret_values(), form.get("assertion", "")]


class UnreachableError(FatalError):
    """The login host's name does not resolve or nothing listens there: a wrong SF_LOGIN_URL
    or a network that lets nothing out, which waiting and retrying does not cure."""


def request_token(settings: Settings, session: requests.Session,
                  clock: Callable[[], float] = time.time, *, first: bool = False) -> Token:
    """Log in with the configured flow; raises ConfigurationError, AuthenticationError, or
    RetryableError (Salesforce or the network failing).

    On the ``first`` login of a process a host that cannot be reached at all (DNS, connection
    refused) fails at once with :class:`UnreachableError`: the admin is waiting for an answer
    and a retry will not bring the host. Once a session existed, the same failure is a blip
    worth retrying."""
    url = token_url(settings)
    form = token_form(settings, clock())
    secrets = _secrets_of(settings, form)
    mode = settings.auth_mode.value if settings.auth_mode else "none"
    try:
        response = session.post(url, data=form, headers={"Accept": "application/json"})
    except requests.RequestException as err:
        reason = unreachable_reason(err) if first else None
        if reason is not None:
            host = urlsplit(url).netloc
            raise UnreachableError(f"cannot reach {host}: {reason}") from None
        failure = error_from_network(err, f"token request to {url} failed")
        failure.args = (redact(str(failure), secrets),)
        raise failure from None
    if response.status_code >= 500:
        raise RetryableError(f"token request to {url} failed: HTTP {response.status_code}",
                             status=response.status_code)
    payload = _json(response)
    if response.status_code != 200 or "access_token" not in payload:
        error = str(payload.get("error") or f"HTTP {response.status_code}")
        description = redact(str(payload.get("error_description") or "no description"),
                             secrets)
        message = (f"Salesforce refused the {mode} login at {settings.sf_login_url}: "
                   f"{error}: {description}")
        log.warning("salesforce.auth.refused", flow=mode, error=error, description=description)
        if error in _CONFIGURATION_ERRORS:
            raise ConfigurationError(message, problems=[message])
        raise AuthenticationError(message, error_code=error, status=response.status_code)
    token = Token(access_token=SecretStr(str(payload["access_token"])),
                  instance_url=str(payload.get("instance_url") or settings.sf_login_url).rstrip(
                      "/"),
                  identity_url=str(payload.get("id", "")),
                  issued_at=str(payload["issued_at"]) if "issued_at" in payload else None)
    log.debug("salesforce.auth.ok", flow=mode, instance_url=token.instance_url,
             org_id=token.org_id, user_id=token.user_id)
    return token


def _json(response: requests.Response) -> dict[str, object]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
