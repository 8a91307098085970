"""The HTTP session every Salesforce request goes through: timeouts, trust, call options.

requests sends without a timeout unless told, and simple-salesforce never tells it; a hung
Salesforce request would hang the worker. requests also lets ``REQUESTS_CA_BUNDLE`` /
``CURL_CA_BUNDLE`` from the environment replace ``session.verify``, which silently drops the CA
configured in ``SF_CA_BUNDLE`` (the emulator's) on machines that set them. The adapter here owns
both: every request gets the configured timeouts, and certificate verification always uses
the system's public CAs plus ``SF_CA_BUNDLE`` — it cannot be switched off.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from config.settings import Settings

CALL_OPTIONS = "client=mapsync"
USER_AGENT = "mapsync"


def trust_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Public CAs (certifi's, as requests uses) plus the extra CA bundle, hostname checked."""
    from requests.utils import DEFAULT_CA_BUNDLE_PATH

    context = ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class SalesforceAdapter(HTTPAdapter):
    """Forces verification against one trust context and a timeout on every request."""

    def __init__(self, context: ssl.SSLContext, timeout: tuple[float, float],
                 pool_maxsize: int = 10) -> None:
        self._context = context
        self._timeout = timeout
        super().__init__(pool_maxsize=pool_maxsize)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host_params, kwargs = super().build_connection_pool_key_attributes(request, True, cert)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs["ssl_context"] = self._context
        pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # The pool's SSL context already holds the trusted CAs; a path from the environment
        # must not be loaded on top of it, and verification is never turned off.
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        return super().send(request, stream=stream,
                            timeout=timeout if timeout is not None else self._timeout,
                            verify=True, cert=cert, proxies=proxies)


def configure_session(session: requests.Session, settings: Settings) -> requests.Session:
    """Make ``session`` fit for Salesforce (see the module docstring); returns it."""
    adapter = SalesforceAdapter(trust_context(settings.sf_ca_bundle),
                                (settings.sf_connect_timeout, settings.sf_read_timeout))
    session.trust_env = False
    session.verify = True
    session.mount("https://", adapter)
    session.headers["Sforce-Call-Options"] = CALL_OPTIONS
    session.headers["User-Agent"] = USER_AGENT
    return session


def build_session(settings: Settings) -> requests.Session:
    """A new configured session."""
    return configure_session(requests.Session(), settings)
