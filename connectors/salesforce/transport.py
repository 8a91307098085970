"""One Salesforce request, done right: budgeted, authenticated, counted, classified, retried.

Every operation of the connector (REST, Collections, Composite, Bulk 2.0) sends through
:meth:`Transport.request`, so the rules hold everywhere at once: the budget guard runs before a
call is made, the access token is attached from a SecretStr, ``Sforce-Limit-Info`` is read from
every response, a failure is translated by the error table, an expired session is renewed once
and the request repeated (twice in a row is an AuthenticationError), and RetryableError is
retried by the one policy.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, TypeVar

import requests
import structlog

from config.errors import AuthenticationError, MapsyncError
from config.settings import Settings
from connectors.salesforce.auth import Token, redact, request_token
from connectors.salesforce.errors import (
    SessionExpiredError,
    error_from_body,
    error_from_network,
)
from connectors.salesforce.retry import RetryPolicy
from connectors.salesforce.usage import ApiUsage, is_counted

T = TypeVar("T")
log = structlog.get_logger(__name__)


class Transport:
    """Sends requests to one org for one client; owns the session token and the usage."""

    def __init__(self, settings: Settings, session: requests.Session, usage: ApiUsage,
                 policy: RetryPolicy, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.session = session
        self.usage = usage
        self.policy = policy
        self._clock = clock
        self._token: Token | None = None
        self.authentications = 0
        self._on_token: list[Callable[[Token], None]] = []
        # Asked right before every request that writes records; raising stops the write.
        # The worker sets it to its lease check: a process that lost the org's lease (it was
        # paused past it) sends no further write, even in the middle of a push step.
        self.write_guard: Callable[[], None] | None = None
        session.hooks.setdefault("response", []).append(self._observe)

    # --- session -------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        """The current session, logging in first if there is none."""
        if self._token is None:
            self.authenticate()
        assert self._token is not None
        return self._token

    def authenticate(self) -> Token:
        """Make the token request (retrying transient failures) and keep the new session."""
        first = self.authentications == 0
        token = self.policy.call(lambda: request_token(self.settings, self.session, self._clock,
                                                       first=first))
        self._token = token
        self.authentications += 1
        for listener in self._on_token:
            listener(token)
        return token

    def on_token(self, listener: Callable[[Token], None]) -> None:
        """Call ``listener`` with every new session (e.g. to rebuild a simple-salesforce)."""
        self._on_token.append(listener)

    def url(self, path: str) -> str:
        """Absolute URL of ``path``: absolute URLs stay, ``/services/…`` is on the instance,
        anything else is under ``/services/data/vNN.0/``."""
        if path.startswith(("https://", "http://")):
            return path
        if path.startswith("/"):
            return self.token.instance_url + path
        return f"{self.data_root}/{path}"

    @property
    def data_root(self) -> str:
        return f"{self.token.instance_url}/services/data/v{self.settings.sf_api_version}"

    @property
    def data_path(self) -> str:
        """``/services/data/vNN.0``, for Composite subrequest URLs."""
        return f"/services/data/v{self.settings.sf_api_version}"

    # --- requests ------------------------------------------------------------------------

    def request(self, method: str, path: str, *, context: str | None = None,
                json: Any = None, data: str | bytes | BinaryIO | None = None,
                params: Mapping[str, str] | None = None,
                headers: Mapping[str, str] | None = None,
                stream: bool = False) -> requests.Response:
        """Send one request with retries and re-authentication; raises the product's errors.
        ``stream``: the body is read as the caller goes (a Bulk job's results can be larger
        than memory should hold); ``data`` may be an open file, sent from its start each try."""
        def attempt() -> requests.Response:
            return self.with_session(lambda: self.send_once(
                method, path, context=context, json=json, data=data, params=params,
                headers=headers, stream=stream))
        return self.policy.call(attempt)

    def with_session(self, operation: Callable[[], T]) -> T:
        """Run ``operation``; if the session expired, log in again and run it once more."""
        try:
            return operation()
        except SessionExpiredError:
            log.info("salesforce.session.expired", action="reauthenticate")
            self.authenticate()
            try:
                return operation()
            except SessionExpiredError as again:
                raise AuthenticationError(
                    f"Salesforce refused a fresh session twice in a row: {again}",
                    error_code=again.error_code, status=again.status) from None

    def send_once(self, method: str, path: str, *, context: str | None = None,
                  json: Any = None, data: str | bytes | BinaryIO | None = None,
                  params: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None,
                  stream: bool = False) -> requests.Response:
        """Exactly one HTTP request; failures translated, nothing retried."""
        url = self.url(path)
        what = context or f"{method} {_path_of(url)}"
        if self.write_guard is not None and method != "GET" and writes_records(url):
            self.write_guard()
        if is_counted(url):
            self.usage.guard()
        merged = {"Authorization": f"Bearer {self.token.access_token.get_secret_value()}",
                  "Accept": "application/json"}
        merged.update(headers or {})
        started = time.monotonic()
        if data is not None and not isinstance(data, str | bytes):
            data.seek(0)  # a file body, sent again whole
        try:
            response = self.session.request(method, url, json=json, data=data,
                                            params=dict(params) if params else None,
                                            headers=merged, stream=stream)
        except requests.RequestException as err:
            error = error_from_network(err, what)
            error.args = (redact(str(error), self._secrets()),)
            raise error from None
        log.debug("salesforce.call", method=method, path=_path_of(url),
                  status=response.status_code,
                  ms=round((time.monotonic() - started) * 1000, 1))
        if response.status_code >= 300:
            raise self._error(response, what)
        return response

    def _error(self, response: requests.Response, what: str) -> MapsyncError:
        error = error_from_body(response.status_code, response.text, what)
        message = redact(str(error), self._secrets())
        if message != str(error):
            error.args = (message,)
        return error

    def _secrets(self) -> list[str]:
        token = self._token.access_token.get_secret_value() if self._token else ""
        return [*self.settings.secret_values(), token]

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.usage.record(response.url, response.headers.get("Sforce-Limit-Info"),
                          response.headers.get("Date"))


_RECORD_WRITES = re.compile(r"/services/data/v[\d.]+/(composite/sobjects|sobjects/|jobs/ingest)")


def writes_records(url: str) -> bool:
    """Whether a request other than GET to ``url`` changes records (a Composite request of
    queries or a Bulk query job does not)."""
    return bool(_RECORD_WRITES.search(url))


def _path_of(url: str) -> str:
    """The path of ``url`` without its query (queries can be long; paths say enough)."""
    from urllib.parse import urlsplit

    return urlsplit(url).path
