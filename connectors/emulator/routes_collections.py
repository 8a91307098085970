"""sObject Collections: up to 200 records written, deleted or read in one API call.

mapsync pushes every plan and milestone through ``PATCH /composite/sobjects/X/ExtId__c``,
so this is the org's hot path: one transaction per request, a savepoint per record, results
in request order with per-record errors, ``allOrNone`` rollback, and the per-record
``UNABLE_TO_LOCK_ROW`` fault knob.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.emulator import ids
from connectors.emulator.errors import ApiError, RecordError, RecordFailed, RecordResult
from connectors.emulator.gate import Call, json_response
from connectors.emulator.routing import api, readable_fields, sobject_of
from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.store import MultipleMatches

MAX_WRITE = 200
MAX_READ = 2000


def _too_many() -> ApiError:
    return ApiError(400, "EXCEEDED_ID_LIMIT",
                    "record limit reached. cannot submit more than 200 records into this call")


async def _payload(call: Call) -> tuple[list[dict[str, object]], bool]:
    body = await call.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR",
                       "Cannot deserialize instance of SObjectCollectionsRequest: records "
                       "is required")
    records = body["records"]
    if len(records) > MAX_WRITE:
        raise _too_many()
    if not all(isinstance(r, dict) for r in records):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject")
    return records, bool(body.get("allOrNone", False))


def _record_type(call: Call, rec: dict[str, object]) -> SObjectDef:
    attrs = rec.get("attributes")
    name = attrs.get("type") if isinstance(attrs, dict) else None
    obj = call.org.schema.get(str(name)) if name else None
    if obj is None:
        raise RecordFailed(RecordError("INVALID_TYPE", "Must send a concrete entity type."
                                       if not name else f"sObject type '{name}' is not "
                                       "supported."))
    return obj


def _locked(call: Call, record_id: object) -> None:
    if call.org.dice.roll(call.org.knobs.lock_rate):
        raise RecordFailed(RecordError(
            "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 "
            f"records: {record_id or ''}".rstrip()))


def _respond(results: list[RecordResult], with_created: bool = False) -> Response:
    return json_response([r.to_json(with_created) for r in results])


async def create(call: Call) -> Response:
    records, all_or_none = await _payload(call)
    store = call.org.store

    def op(rec: dict[str, object]) -> Callable[[], RecordResult]:
        def run() -> RecordResult:
            obj = _record_type(call, rec)
            if rec.get("id") or rec.get("Id"):
                raise RecordFailed(RecordError(
                    "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]))
            _locked(call, None)
            return RecordResult(store.create(obj, rec, call.user_id))
        return run

    return _respond(store.run_batch([op(r) for r in records], all_or_none))


async def update(call: Call) -> Response:
    records, all_or_none = await _payload(call)
    store = call.org.store

    def op(rec: dict[str, object]) -> Callable[[], RecordResult]:
        def run() -> RecordResult:
            obj = _record_type(call, rec)
            rid = rec.get("id", rec.get("Id"))
            if not rid:
                raise RecordFailed(RecordError("MISSING_ARGUMENT",
                                               "Id not specified in an update call"))
            norm = ids.normalize(str(rid))
            _locked(call, norm or rid)
            store.update(obj, str(rid), rec, call.user_id)
            return RecordResult(norm)
        return run

    return _respond(store.run_batch([op(r) for r in records], all_or_none))


async def upsert(call: Call) -> Response:
    obj = sobject_of(call)
    fname = str(call.request.path_params["field"])
    ext = obj.field(fname)
    # Unlike the single-record upsert, a Collections upsert takes only a field marked
    # External ID as its key: never Id, nor an idLookup field such as Account.Name.
    if ext is None or not ext.external_id:
        raise ApiError(400, "INVALID_FIELD",
                       f"Field name provided, {fname} is not an External ID field for "
                       f"{obj.name}: sObject Collections upsert supports only external ids, "
                       "not record ids")
    records, all_or_none = await _payload(call)
    store = call.org.store
    key_of = [_key(ext, r) for r in records]
    seen: dict[str, int] = {}
    for k in key_of:
        if k is not None:
            seen[k] = seen.get(k, 0) + 1

    def op(rec: dict[str, object], key: str | None) -> Callable[[], RecordResult]:
        def run() -> RecordResult:
            rec_obj = _record_type(call, rec)
            if rec_obj.name != obj.name:
                raise RecordFailed(RecordError(
                    "INVALID_TYPE", f"Record type {rec_obj.name} does not match the "
                    f"upsert type {obj.name}"))
            value = next((v for k, v in rec.items() if k.lower() == ext.name.lower()), None)
            if key is not None and seen[key] > 1:
                raise RecordFailed(RecordError(
                    "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                    [ext.name]))
            if value in (None, "") and ext.name != "Id":
                raise RecordFailed(RecordError(
                    "MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name]))
            _locked(call, value)
            try:
                rid, created = store.upsert(obj, ext, value, rec, call.user_id)
            except MultipleMatches as many:
                raise RecordFailed(RecordError(
                    "DUPLICATE_EXTERNAL_ID", f"{ext.name}: more than one record found for "
                    f"external id field: {many.record_ids}", [ext.name])) from None
            return RecordResult(rid, created=created)
        return run

    results = store.run_batch([op(r, k) for r, k in zip(records, key_of, strict=True)],
                              all_or_none)
    return _respond(results, with_created=True)


def _key(ext: FieldDef, rec: dict[str, object]) -> str | None:
    value = next((v for k, v in rec.items() if k.lower() == ext.name.lower()), None)
    if value in (None, ""):
        return None
    return str(value) if ext.case_sensitive else str(value).lower()


async def delete(call: Call) -> Response:
    params = call.request.query_params
    raw = params.get("ids", "")
    record_ids = [i for i in raw.split(",") if i]
    if not record_ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(record_ids) > MAX_WRITE:
        raise _too_many()
    all_or_none = params.get("allOrNone", "false").lower() == "true"
    store = call.org.store

    def op(rid: str) -> Callable[[], RecordResult]:
        def run() -> RecordResult:
            norm = ids.normalize(rid)
            _locked(call, norm or rid)
            store.delete(rid, call.user_id)
            return RecordResult(norm)
        return run

    results = store.run_batch([op(r) for r in record_ids], all_or_none)
    for rid, result in zip(record_ids, results, strict=True):
        if not result.success and result.id is None:
            result.id = ids.normalize(rid) or rid
    return _respond(results)


async def retrieve(call: Call) -> Response:
    obj = sobject_of(call)
    if call.request.method == "POST":
        body = await call.json()
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize request body")
        raw_ids = [str(i) for i in body.get("ids") or []]
        raw_fields = ",".join(str(f) for f in body.get("fields") or [])
    else:
        raw_ids = [i for i in call.request.query_params.get("ids", "").split(",") if i]
        raw_fields = call.request.query_params.get("fields", "")
    if not raw_fields:
        raise ApiError(400, "MISSING_ARGUMENT", "fields parameter is required")
    if len(raw_ids) > MAX_READ:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 2000 records into "
                       "this call")
    fields = readable_fields(call, obj, raw_fields)
    norms = [ids.normalize(i) for i in raw_ids]
    for raw, norm in zip(raw_ids, norms, strict=True):
        if norm is None:
            raise ApiError(400, "MALFORMED_ID", f"malformed id {raw}")
    rows = call.org.store.find_many(obj, [n for n in norms if n])
    out: list[object] = []
    for norm in norms:
        row = rows.get(norm or "")
        visible = row is not None and not row["IsDeleted"] and \
            call.org.access.can_see(call.user_id, obj, row)
        out.append(call.org.store.record_json(obj, row, call.version, fields)
                   if visible and row is not None else None)
    return json_response(out)


async def collection(call: Call) -> Response:
    method = call.request.method
    if method == "POST":
        return await create(call)
    if method == "PATCH":
        return await update(call)
    return await delete(call)


ROUTES: list[BaseRoute] = [
    *api("/composite/sobjects", collection, ["POST", "PATCH", "DELETE"]),
    *api("/composite/sobjects/{sobject}", retrieve, ["GET", "POST"]),
    *api("/composite/sobjects/{sobject}/{field}", upsert, ["PATCH"]),
]
