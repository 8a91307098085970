"""REST resources for single records and objects: versions, describe, rows, upsert,
replication (``updated``/``deleted``).

These are the calls simple-salesforce's ``sf.Account.create/get/update/upsert/delete``,
``describe`` and ``updated/deleted`` make, answered with Salesforce's statuses and bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.emulator import ids
from connectors.emulator.describe import object_describe, object_summary
from connectors.emulator.errors import ApiError, RecordResult, not_found, record_errors_as_api_error
from connectors.emulator.gate import LATEST_VERSION, OLDEST_VERSION, Call, json_response
from connectors.emulator.routes_files import blob, blob_field
from connectors.emulator.routing import api, plain, readable_fields, sobject_of
from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.store import MultipleMatches
from connectors.emulator.values import format_datetime, parse_datetime

SEASONS = ("Winter", "Spring", "Summer")


def version_label(major: int) -> str:
    """The release name of API version ``major`` (20.0 is Winter '11, three a year)."""
    i = major - 20
    return f"{SEASONS[i % 3]} '{11 + i // 3:02d}"


async def versions(request: Request) -> Response:
    """``GET /services/data``: not an API call, no session needed."""
    return json_response([{"label": version_label(v), "url": f"/services/data/v{v}.0",
                           "version": f"{v}.0"} for v in range(OLDEST_VERSION, LATEST_VERSION + 1)])


async def resources(call: Call) -> Response:
    base = f"/services/data/v{call.version}"
    names = ("sobjects", "query", "queryAll", "composite", "limits", "jobs", "search",
             "recent", "tooling")
    out = {n: f"{base}/{n}" for n in names}
    # the caller's identity URL: jsforce's identity() finds it here when it has only a token
    out["identity"] = f"{call.org.instance_url}/id/{call.org.org_id}/{call.user_id}"
    return json_response(out)


async def global_describe(call: Call) -> Response:
    """``GET /sobjects``: every object the user can see, standard and custom, by name."""
    objects = sorted(call.schema.objects.values(), key=lambda o: o.name)
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
        object_summary(o, call.version) for o in objects]})


async def sobject_root(call: Call) -> Response:
    obj = sobject_of(call)
    if call.request.method == "POST":
        return await create(call, obj)
    return json_response({"objectDescribe": object_summary(obj, call.version),
                          "recentItems": []})


async def describe(call: Call) -> Response:
    obj = sobject_of(call)
    view = call.schema.get(obj.name)
    assert view is not None
    return json_response(object_describe(call.schema, view, call.version))


def _lock_fault(call: Call) -> None:
    if call.org.dice.roll(call.org.knobs.lock_rate):
        raise ApiError(400, "UNABLE_TO_LOCK_ROW",
                       "unable to obtain exclusive access to this record")


async def _body(call: Call) -> dict[str, object]:
    body = await call.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR",
                       "Cannot deserialize instance of sObject from START_ARRAY value")
    return body


def _then(write: Callable[[], None], record_id: str | None) -> Callable[[], RecordResult]:
    """A batch operation running ``write`` and reporting ``record_id`` on success."""
    def op() -> RecordResult:
        write()
        return RecordResult(record_id)
    return op


def _write_one(call: Call, op: Callable[[], RecordResult]) -> RecordResult:
    result = call.org.store.run_batch([op])
    if not result[0].success:
        raise record_errors_as_api_error(result[0].errors)
    return result[0]


async def create(call: Call, obj: SObjectDef) -> Response:
    body = await _body(call)
    _lock_fault(call)
    store = call.org.store
    result = _write_one(call, lambda: RecordResult(store.create(obj, body, call.user_id)))
    return json_response({"id": result.id, "success": True, "errors": []}, 201,
                         {"Location": _location(call, obj, result.id)})


def _location(call: Call, obj: SObjectDef, record_id: str | None) -> str:
    return f"/services/data/v{call.version}/sobjects/{obj.name}/{record_id}"


async def record(call: Call) -> Response:
    obj = sobject_of(call)
    raw_id = str(call.request.path_params["record_id"])
    norm = ids.normalize(raw_id)
    method = call.request.method
    if method == "GET":
        if norm is None or norm[:3] != obj.key_prefix:
            raise ApiError(404, "NOT_FOUND",
                           f"Provided external ID field does not exist or is not accessible: "
                           f"{raw_id}")
        row = call.org.store.find(obj, norm)
        if row is None or not call.org.access.can_see(call.user_id, obj, row):
            raise not_found()
        if row["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        fields = readable_fields(call, obj, call.request.query_params.get("fields"))
        return json_response(call.org.store.record_json(obj, row, call.version, fields))
    store = call.org.store
    if method == "PATCH":
        body = await _body(call)
        _lock_fault(call)
        _write_one(call, _then(lambda: store.update(obj, raw_id, body, call.user_id), norm))
        return Response(status_code=204)
    # DELETE
    if norm is None or norm[:3] != obj.key_prefix:
        raise ApiError(400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: "
                       f"{raw_id}", ["Id"])
    _lock_fault(call)
    _write_one(call, _then(lambda: store.delete(norm, call.user_id), norm))
    return Response(status_code=204)


def _ext_field(obj: SObjectDef, name: str) -> FieldDef:
    f = obj.field(name)
    if f is None or not (f.external_id or f.id_lookup or f.name == "Id"):
        raise ApiError(404, "NOT_FOUND",
                       f"Provided external ID field does not exist or is not accessible: {name}")
    return f


def _multiple(call: Call, obj: SObjectDef, record_ids: list[str]) -> Response:
    return json_response([f"/services/data/v{call.version}/sobjects/{obj.name}/{i}"
                          for i in record_ids], 300)


async def by_external_id(call: Call) -> Response:
    obj = sobject_of(call)
    fname = str(call.request.path_params["field"])
    value = str(call.request.path_params["value"])
    blob_of = blob_field(obj, value)
    if blob_of is not None and call.request.method == "GET":
        return await blob(call, obj, fname, blob_of)
    f = _ext_field(obj, fname)
    store = call.org.store
    method = call.request.method
    if method == "PATCH":
        body = await _body(call)
        _lock_fault(call)
        outcome: dict[str, object] = {}

        def op() -> RecordResult:
            rid, created = store.upsert(obj, f, value, body, call.user_id)
            outcome.update(created=created)
            return RecordResult(rid, created=created)

        try:
            result = _write_one(call, op)
        except MultipleMatches as many:
            return _multiple(call, obj, many.record_ids)
        headers = {"Location": _location(call, obj, result.id)} if result.created else None
        return json_response(result.to_json(with_created=True),
                             201 if result.created else 200, headers)
    matches = store.ids_by_value(obj, f, value)
    if not matches:
        raise not_found()
    if len(matches) > 1:
        return _multiple(call, obj, matches)
    if method == "DELETE":
        _lock_fault(call)
        _write_one(call, _then(lambda: store.delete(matches[0], call.user_id), matches[0]))
        return Response(status_code=204)
    row = store.find(obj, matches[0])
    assert row is not None
    if not call.org.access.can_see(call.user_id, obj, row):
        raise not_found()
    fields = readable_fields(call, obj, call.request.query_params.get("fields"))
    return json_response(store.record_json(obj, row, call.version, fields))


UPDATED_REACH, DELETED_REACH = timedelta(days=30), timedelta(days=15)


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _window(call: Call, reach: timedelta) -> tuple[str, str, str]:
    """``(start, end, latestDateCovered)`` of a replication window, as Salesforce reads it:
    seconds ignored, start before end and within ``reach`` of now; covered up to ``end`` but
    never past the org's now, nor past a write still to commit late (its stamp will be up
    to ``late_stamp_ms`` old when it lands)."""
    if "SystemModstamp" not in sobject_of(call).fields:  # field history: query it instead
        raise ApiError(400, "INVALID_TYPE",
                       f"sObject type '{sobject_of(call).name}' is not replicateable")
    params = call.request.query_params
    if "start" not in params or "end" not in params:
        raise ApiError(400, "MISSING_ARGUMENT", "start and end are required")
    start, end = parse_datetime(params["start"]), parse_datetime(params["end"])
    if start is None or end is None:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       "start date and end date must be valid dateTime values")
    start, end = _minute(start), _minute(end)
    if start >= end:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       "startDate must chronologically precede endDate by more than one minute")
    now = call.org.now()
    if now - start > reach:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       f"startDate cannot be more than {reach.days} days ago")
    knobs = call.org.knobs
    pending = timedelta(milliseconds=knobs.late_stamp_ms if knobs.late_stamp_rate > 0 else 0)
    covered = max(start, min(end, _minute(now - pending)))
    return format_datetime(start), format_datetime(end), format_datetime(covered)


def _within_id_limit(call: Call, rows: list[tuple[str, str]]) -> None:
    """Salesforce answers at most 600,000 Ids a window, else refuses the whole window."""
    limit = call.org.knobs.replication_id_limit
    if len(rows) > limit:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       f"The number of Ids returned exceeds the limit of {limit}: ask for a "
                       "shorter window between the start and end dates")


async def updated(call: Call) -> Response:
    obj = sobject_of(call)
    start, end, covered = _window(call, UPDATED_REACH)
    rows = call.org.store.changed_between(obj, start, end, deleted=False)
    _within_id_limit(call, rows)
    return json_response({"ids": [r[0] for r in rows], "latestDateCovered": covered})


async def deleted(call: Call) -> Response:
    obj = sobject_of(call)
    start, end, covered = _window(call, DELETED_REACH)
    call.org.empty_recycle_bin(obj.name)
    rows = call.org.store.changed_between(obj, start, end, deleted=True)
    _within_id_limit(call, rows)
    earliest = format_datetime(call.org.now() - DELETED_REACH)
    return json_response({"deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
                          "earliestDateAvailable": earliest, "latestDateCovered": covered})


TOP_ROUTES: list[BaseRoute] = [
    *plain("/services/data", versions, ["GET"]),
    *api("/services/data/v{version}", resources, ["GET"])[:1],
]

ROUTES: list[BaseRoute] = [
    *api("/", resources, ["GET"]),
    *api("/sobjects", global_describe, ["GET"]),
    *api("/sobjects/{sobject}", sobject_root, ["GET", "POST"]),
    *api("/sobjects/{sobject}/describe", describe, ["GET"]),
    *api("/sobjects/{sobject}/updated", updated, ["GET"]),
    *api("/sobjects/{sobject}/deleted", deleted, ["GET"]),
    *api("/sobjects/{sobject}/{record_id}", record, ["GET", "PATCH", "DELETE"]),
    *api("/sobjects/{sobject}/{field}/{value}", by_external_id, ["GET", "PATCH", "DELETE"]),
]
