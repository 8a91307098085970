"""Composite: up to 25 subrequests in one API call, later ones referring to earlier results.

A poll that costs one call (several queries in one request) and a push of 1,000 records per
call both rest on this. Each subrequest is answered by the org's own routes (re-entered
in-process through the ASGI app, marked so it is neither counted nor faulted again);
``@{ref.path}`` references are resolved from earlier bodies; ``allOrNone`` wraps them all
in one transaction.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Message

from connectors.emulator.errors import ApiError
from connectors.emulator.gate import SUBREQUEST, Call, json_response
from connectors.emulator.routing import api

MAX_SUBREQUESTS = 25
MAX_HEAVY = 5  # Collections or query subrequests per Composite request
_REF = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
HALTED = "The transaction was rolled back since another operation in the same transaction " \
         "failed."


class Unresolved(Exception):
    pass


def _lookup(results: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in results:
        raise Unresolved(f"Invalid reference specified. No value for {ref}.{path} found in "
                         f"{ref}. Provided referenceId ({ref}) doesn't exist.")
    value = results[ref]
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError):
            raise Unresolved(f"Invalid reference specified. No value for {ref}.{path} found "
                             f"in {ref}.") from None
    return value


def resolve(value: Any, results: dict[str, Any]) -> Any:
    """``value`` with every ``@{ref.path}`` replaced by what earlier subrequests returned."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REF.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    return value


async def subrequest(call: Call, method: str, url: str, body: Any,
                     headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    """Answer one subrequest through the app itself; (status, headers, parsed body)."""
    parts = urlsplit(url)
    raw = b"" if body is None else json.dumps(body).encode()
    hdrs = [(b"authorization", f"Bearer {call.session.token}".encode()),
            (b"content-type", b"application/json")]
    hdrs += [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method.upper(), "scheme": "https", "path": parts.path,
             "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
             "root_path": "", "headers": hdrs, "client": ("127.0.0.1", 0),
             "server": ("127.0.0.1", 443), SUBREQUEST: call.session}
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    status = 500
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers.update({k.decode().lower(): v.decode() for k, v in message["headers"]})
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await call.request.app(scope, receive, send)
    payload = b"".join(chunks)
    parsed = json.loads(payload) if payload.strip() else None
    keep = {name: out_headers[name.lower()] for name in ("Location", "Sforce-Locator")
            if name.lower() in out_headers}
    return status, keep, parsed


async def composite(call: Call) -> Response:
    body = await call.json()
    subs = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs:
        raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
    if len(subs) > MAX_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED",
                       f"Limit Exceeded: maximum number of subrequests is {MAX_SUBREQUESTS}")
    heavy = sum(1 for s in subs if isinstance(s, dict) and re.search(
        r"/(composite/sobjects|query|queryAll)(/|\?|$)", str(s.get("url", ""))))
    if heavy > MAX_HEAVY:
        raise ApiError(400, "LIMIT_EXCEEDED",
                       f"Limit Exceeded: a composite request can contain at most {MAX_HEAVY} "
                       "sObject Collections or query subrequests")
    all_or_none = bool(body.get("allOrNone", False))
    store = call.org.store
    results: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    failed = False
    with store.lock:
        if all_or_none:
            store.conn.execute("SAVEPOINT composite")
        try:
            for sub in subs:
                ref = str(sub.get("referenceId", ""))
                if failed and all_or_none:
                    out.append(_halted(ref))
                    continue
                try:
                    url = resolve(str(sub.get("url", "")), results)
                    sub_body = resolve(sub.get("body"), results)
                except Unresolved as err:
                    out.append({"body": [{"errorCode": "PROCESSING_HALTED",
                                          "message": str(err)}],
                                "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref})
                    failed = True
                    continue
                status, headers, payload = await subrequest(
                    call, str(sub.get("method", "GET")), url, sub_body,
                    dict(sub.get("httpHeaders") or {}))
                results[ref] = payload
                out.append({"body": payload, "httpHeaders": headers,
                            "httpStatusCode": status, "referenceId": ref})
                failed = failed or status >= 400
        except BaseException:
            if all_or_none:
                store.conn.execute("ROLLBACK TO composite")
                store.conn.execute("RELEASE composite")
            raise
        if all_or_none:
            if failed:
                store.conn.execute("ROLLBACK TO composite")
                out = [o if o["httpStatusCode"] >= 400 else _halted(o["referenceId"])
                       for o in out]
            store.conn.execute("RELEASE composite")
    return json_response({"compositeResponse": out})


def _halted(ref: str) -> dict[str, Any]:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED}],
            "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref}


ROUTES: list[BaseRoute] = api("/composite", composite, ["POST"])
