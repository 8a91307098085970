"""What every REST API call goes through before and after its route runs.

Salesforce answers every call under ``/services/data/vNN.0`` the same way around the
resource itself: it may be slow or unavailable, it checks the session, it refuses a new call
while too many long-running ones are in flight or once the daily quota is spent, it counts
the call, it takes the time its records cost to write (the org's ``Profile``), and it reports
usage in ``Sforce-Limit-Info``.
``api_route`` wraps a route with exactly that, so routes only do their own work. Composite
subrequests come back in through the app marked as such: they are neither delayed, faulted
nor counted again (the Composite request is one call).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from connectors.emulator.auth import Session
from connectors.emulator.errors import ApiError, invalid_session
from connectors.emulator.org import Org
from connectors.emulator.pace import Ticket
from connectors.emulator.schema import Schema

log = logging.getLogger(__name__)
_error_ids = itertools.count(1_000_000_001)
SUBREQUEST = "emulator.subrequest"  # scope key: the Session of the enclosing Composite call
OLDEST_VERSION, LATEST_VERSION = 20, 65


def json_response(body: object, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    # orjson: a 2,000-record query page is ~1 MB of JSON, ten times faster than json.dumps
    return Response(orjson.dumps(body), status_code=status, headers=headers,
                    media_type="application/json")


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(err.body(), err.status, headers)


@dataclass
class Call:
    """One API call being answered: the request, its org, session and API version."""

    request: Request
    org: Org
    session: Session
    version: str

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def schema(self) -> Schema:
        """The objects and fields this call's user can read (describe and SOQL use it)."""
        return self.org.access.schema_for(self.session.user_id)

    async def json(self) -> Any:
        raw = await self.request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, "JSON_PARSER_ERROR",
                           f"Unexpected character: was expecting a JSON value at [line:1, "
                           f"column:{getattr(exc, 'colno', 1)}]") from None


Route = Callable[[Call], Awaitable[Response]]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


def drop_connection(request: Request) -> bool:
    """Close the client's connection without an answer, as a dying proxy does."""
    owner = getattr(request.receive, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is None:
        return False
    transport.abort()
    return True


def version_of(request: Request) -> str | None:
    raw = str(request.path_params.get("version", ""))
    try:
        number = float(raw)
    except ValueError:
        return None
    if raw.endswith(".0") and OLDEST_VERSION <= number <= LATEST_VERSION:
        return raw
    return None


def api_route(route: Route,
              token_of: Callable[[Request], str | None] = bearer_token,
              render: Callable[[ApiError], Response] = error_response,
              ) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``route`` with Salesforce's per-call behaviour (see the module docstring).

    ``token_of`` finds the session in the request and ``render`` writes an error: the REST
    API's (``Authorization: Bearer``, a JSON array) unless an older API says otherwise, as
    Bulk API 1.0 does (``X-SFDC-Session``, ``exceptionCode`` in XML or JSON).
    """

    async def endpoint(request: Request) -> Response:
        org: Org = request.app.state.org
        version = version_of(request)
        enclosing: Session | None = request.scope.get(SUBREQUEST)
        if enclosing is not None:
            if version is None:
                return render(ApiError(404, "NOT_FOUND",
                                       "The requested resource does not exist"))
            try:
                return await route(Call(request, org, enclosing, version))
            except ApiError as err:
                return render(err)
        ticket = org.pace.enter(request.method, request.url.path)
        try:
            return await _answer(request, org, route, version, ticket, token_of, render)
        finally:
            org.pace.leave(ticket)

    endpoint.__name__ = getattr(route, "__name__", "endpoint")
    return endpoint


async def _answer(request: Request, org: Org, route: Route, version: str | None,
                  ticket: Ticket, token_of: Callable[[Request], str | None],
                  render: Callable[[ApiError], Response]) -> Response:
    """One top-level call, timed by the org's profile: the concurrency rules first, then
    the latency, and the cost of the records written before the answer leaves."""
    try:
        org.pace.admit(ticket)  # refused at once for concurrency, and not counted as a call
    except ApiError as refused:
        return render(refused)
    knobs = org.knobs
    delay = knobs.latency_ms / 1000 + org.pace.latency()
    if delay:
        await asyncio.sleep(delay)
    if org.dice.roll(knobs.drop_rate) and drop_connection(request):
        return Response(status_code=503)
    if org.dice.roll(knobs.unavailable_rate):
        return render(ApiError(
            503, "SERVER_UNAVAILABLE",
            "Server temporarily unavailable: please try again shortly"))
    token = token_of(request)
    session = org.sessions.find(token, knobs.session_max_calls,
                                knobs.session_ttl_seconds) if token else None
    if session is None:
        return render(invalid_session())
    if version is None:
        return render(ApiError(404, "NOT_FOUND", "The requested resource does not exist"))
    if not org.usage.take(knobs.daily_api_limit):
        limited = render(ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
        limited.headers["Sforce-Limit-Info"] = usage_header(org)
        return limited
    session.calls += 1
    if knobs.journal:
        org.journal.append((time.monotonic(), hashlib.sha256(session.token.encode())
                            .hexdigest()[:12], request.method, request.url.path))
    try:
        response = await route(Call(request, org, session, version))
    except ApiError as err:
        response = render(err)
    except Exception:
        # a defect of the local org answers as Salesforce's own do: 500, retryable
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        response = render(ApiError(
            500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this "
            f"ErrorId if you contact support: {next(_error_ids)}-0 (-1)"))
    cost = org.pace.write_cost(ticket.written)
    if cost:
        await asyncio.sleep(cost)
    response.headers["Sforce-Limit-Info"] = usage_header(org)
    return response


def usage_header(org: Org) -> str:
    return f"api-usage={org.usage.used}/{org.knobs.daily_api_limit}"
