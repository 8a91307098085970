"""The local org's ASGI application: every route module mounted in one place.

OAuth and the versions list sit at the top; every API resource is mounted under
``/services/data/vNN.0``. A new group of resources (Bulk API 2.0, say) is one more module
with a ``ROUTES`` list, added to ``API_ROUTE_MODULES``.
"""

from __future__ import annotations

import re
from email.utils import formatdate
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from connectors.emulator import (
    routes_auth,
    routes_bulk,
    routes_bulk_v1,
    routes_collections,
    routes_composite,
    routes_limits,
    routes_query,
    routes_rest,
    routes_soap,
)
from connectors.emulator.auth import JwtKeyPair
from connectors.emulator.errors import ApiError, not_found
from connectors.emulator.gate import error_response
from connectors.emulator.org import Org

# Order matters only where paths overlap: the more specific module first.
API_ROUTE_MODULES: list[ModuleType] = [
    routes_bulk,
    routes_collections,
    routes_composite,
    routes_query,
    routes_limits,
    routes_rest,
]


class CollapseSlashes:
    """Read ``//services/data`` as ``/services/data``, as Salesforce does.

    The sf CLI keeps its instance URL with a trailing slash and appends paths that start
    with one, so some of its calls arrive with a doubled slash.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = {**scope, "path": re.sub("/{2,}", "/", scope["path"])}
        await self.app(scope, receive, send)


# Starlette keeps header names lower-cased; Salesforce sends these with capitals, and
# clients that read raw headers (or compare case-sensitively) see the difference.
HEADER_CASE = {name.lower().encode(): name.encode() for name in (
    "Content-Type", "Content-Length", "Content-Encoding", "Date", "Location", "Allow",
    "Sforce-Limit-Info", "Sforce-Locator", "Sforce-NumberOfRecords", "WWW-Authenticate")}


class SalesforceHeaders:
    """Send response header names cased as Salesforce sends them (``Sforce-Locator``), and
    stamp every response with the org's clock as an RFC 7231 ``Date`` header.

    A client that polls sets its next read position from the server's time, not its own;
    the header is written per response (the web server's own, cached once a second, is off),
    so it is never behind the writes the response reports.
    """

    def __init__(self, app: Any, state: Any) -> None:
        self.app = app
        self.state = state  # the app's state: a reset org is swapped in there

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dressed(message: Any) -> None:
            if message["type"] == "http.response.start":
                org: Org = self.state.org
                date = formatdate(org.now().timestamp(), usegmt=True).encode()
                headers = [(HEADER_CASE.get(bytes(k).lower(), bytes(k)), v)
                           for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": [(b"Date", date), *headers]}
            await send(message)

        await self.app(scope, receive, send_dressed)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    if status == 405:
        allowed = ""
        if isinstance(exc, HTTPException) and exc.headers:
            allowed = exc.headers.get("Allow", "")
        return error_response(ApiError(
            405, "METHOD_NOT_ALLOWED",
            f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"))
    if status == 404:
        return error_response(not_found())
    return error_response(ApiError(status, "UNKNOWN_EXCEPTION", str(exc)))


def create_app(org: Org, jwt_keys: JwtKeyPair,
               extra_modules: list[ModuleType] | None = None) -> Starlette:
    """The ASGI app serving ``org`` (``jwt_keys`` verify JWT bearer assertions)."""
    api_routes: list[BaseRoute] = []
    for module in [*(extra_modules or []), *API_ROUTE_MODULES]:
        api_routes += module.ROUTES
    routes: list[BaseRoute] = [
        *routes_auth.ROUTES,
        *routes_soap.ROUTES,
        *routes_bulk_v1.ROUTES,
        *routes_rest.TOP_ROUTES,
        Mount("/services/data/v{version}", routes=api_routes),
    ]
    state = State()
    app = Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error},
                    middleware=[Middleware(SalesforceHeaders, state=state),
                                Middleware(CollapseSlashes)])
    app.state = state
    app.router.redirect_slashes = False
    app.state.org = org
    app.state.jwt_keys = jwt_keys
    return app
