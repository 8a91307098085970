"""SOQL over REST: ``query``, ``queryAll`` and paging through ``nextRecordsUrl``.

The SOQL engine (``soql/``) turns the query into SQL; this module runs it once, keeps the
rows as a cursor (so later pages see the snapshot the first page saw, as Salesforce's query
locators do; how long a cursor lives is ``QueryCursors``' business) and answers pages of
``batchSize`` records (2,000 by default, 200 at least).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.emulator.errors import ApiError
from connectors.emulator.gate import Call, json_response
from connectors.emulator.org import QueryCursor, QueryCursors
from connectors.emulator.routing import api
from connectors.emulator.schema import Schema
from connectors.emulator.soql import SoqlError, compile_query, parse

DEFAULT_BATCH, MIN_BATCH, MAX_BATCH, LONG_TEXT_BATCH = 2000, 200, 2000, 200
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def batch_size(call: Call) -> int:
    m = _BATCH.search(call.request.headers.get("sforce-query-options", ""))
    if not m:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(m.group(1))))


def long_text_columns(schema: Schema, sobject: str, columns: list[dict[str, Any]]) -> int:
    """How many long text area fields (textarea above 255 characters) a query selects."""
    obj = schema.get(sobject)
    if obj is None:
        return 0
    count = 0
    for column in columns:
        name = str(column.get("columnName", ""))
        joined = column.get("joinColumns") or []
        if joined:
            rel = obj.relationship(name)
            if rel is not None and rel.reference_to:
                count += long_text_columns(schema, rel.reference_to[0], joined)
            continue
        f = obj.field(name)
        if f is not None and f.type == "textarea" and f.length > 255:
            count += 1
    return count


def _page(call: Call, cursor: QueryCursor, locator: str | None,
          offset: int) -> dict[str, Any]:
    rows = cursor.rows[offset:offset + cursor.batch_size]
    end = offset + len(rows)
    done = end >= len(cursor.rows)
    out: dict[str, Any] = {"totalSize": len(cursor.rows), "done": done}
    if not done:
        if locator is None:
            locator = call.org.cursors.open(cursor)
        out["nextRecordsUrl"] = f"/services/data/v{call.version}/query/{locator}-{end}"
    elif locator is not None:
        call.org.cursors.close(locator)
    shape = cursor.compiled.shape
    out["records"] = [shape(r) for r in rows]
    return out


async def _run(call: Call, include_deleted: bool) -> Response:
    params = call.request.query_params
    text = params.get("q")
    if not text:
        raise ApiError(400, "MALFORMED_QUERY", "The query string is empty")
    org = call.org
    try:
        compiled = compile_query(parse(text), call.schema, include_deleted=include_deleted,
                                 now=org.now(), api_version=call.version,
                                 row_filter=org.access.row_filter_of(call.user_id))
    except SoqlError as err:
        raise ApiError(400, err.error_code, err.message) from None
    if params.get("columns", "").lower() == "true":
        obj = org.schema.get(compiled.sobject)
        return json_response({
            "columnMetadata": compiled.column_metadata(), "entityName": compiled.sobject,
            "groupBy": False,
            "idSelected": any(c.get("columnName") == "Id" for c in compiled.column_metadata()),
            "keyPrefixes": [obj.key_prefix] if obj else []})
    if include_deleted:
        org.empty_recycle_bin(compiled.sobject)
    with org.store.lock:
        rows = org.store.conn.execute(compiled.sql, compiled.params).fetchall()
    if compiled.is_count:
        return json_response({"totalSize": int(rows[0][0]), "done": True, "records": []})
    size = batch_size(call)
    if long_text_columns(org.schema, compiled.sobject, compiled.column_metadata()) >= 2:
        size = min(size, LONG_TEXT_BATCH)  # Salesforce pages such queries by 200
    cursor = QueryCursor(compiled, rows, size, user_id=call.user_id,
                         legacy=float(call.version) < QueryCursors.LEGACY_BEFORE_VERSION)
    return json_response(_page(call, cursor, None, 0))


async def query(call: Call) -> Response:
    return await _run(call, include_deleted=False)


async def query_all(call: Call) -> Response:
    return await _run(call, include_deleted=True)


async def more(call: Call) -> Response:
    raw = str(call.request.path_params["locator"])
    locator, _, offset = raw.rpartition("-")
    cursor = call.org.cursors.get(locator) if offset.isdigit() else None
    if cursor is None or int(offset) > len(cursor.rows):
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return json_response(_page(call, cursor, locator, int(offset)))


ROUTES: list[BaseRoute] = [
    *api("/query", query, ["GET"]),
    *api("/queryAll", query_all, ["GET"]),
    *api("/query/{locator}", more, ["GET"]),
    *api("/queryAll/{locator}", more, ["GET"]),
]
