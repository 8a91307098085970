"""Bulk API 1.0 over HTTP: ``/services/async/{version}/job`` and its batches.

The session comes in the ``X-SFDC-Session`` header (a bearer token is taken too); every
request is an API call, counted and faulted like a REST call (``gate.api_route``). Formats
follow Salesforce's rules, which clients depend on: job info answers in the request's format
(JSON when it sends ``application/json``, XML otherwise); batch info, batch lists and query
result lists in the job's (XML for a CSV job, JSON for a JSON job), so tap-salesforce reads
batch XML from a CSV job it drives with JSON headers; errors as ``exceptionCode`` and
``exceptionMessage`` in the request's format.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from defusedxml import ElementTree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from connectors.emulator.bulk_v1 import (
    ABORTED,
    ASYNC_NS,
    BATCH_DONE,
    BATCH_PREFIX,
    CLOSED,
    CONTENT_TYPES,
    JOB_PREFIX,
    OPEN,
    OPERATIONS,
    Batch,
    BulkBook,
    BulkJob,
    batch_of,
    bulk_error,
    ingest_results_csv,
    ingest_results_json,
    process_batch,
    query_result_csv,
    query_result_json,
)
from connectors.emulator.errors import ApiError
from connectors.emulator.gate import Call, api_route, json_response
from connectors.emulator.routing import sobject_of

_BOOK_LOCK = threading.Lock()
GRACE_POLLS = 30  # x 10 ms
# REST error codes the gate raises, as Bulk API 1.0 names them
_CODES = {"INVALID_SESSION_ID": "InvalidSessionId", "REQUEST_LIMIT_EXCEEDED": "ExceededQuota",
          "NOT_FOUND": "InvalidUrl", "METHOD_NOT_ALLOWED": "InvalidUrl",
          "UNKNOWN_EXCEPTION": "InternalServerError", "SERVER_UNAVAILABLE": "ServerUnavailable"}


def wants_json(request: Request) -> bool:
    return "json" in request.headers.get("content-type", "").lower()


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _escape(value)


def xml(root: str, pairs: list[tuple[str, object]], status: int = 200) -> Response:
    inner = "".join(f"<{k}>{_xml_value(v)}</{k}>" for k, v in pairs)
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{ASYNC_NS}">'
                    f"{inner}</{root}>", status_code=status,
                    media_type="application/xml")


def render_error(request: Request, err: ApiError) -> Response:
    code = _CODES.get(err.error_code, err.error_code)
    status = 400 if code == "InvalidSessionId" else err.status
    if wants_json(request):
        return json_response({"exceptionCode": code, "exceptionMessage": err.message}, status)
    return xml("error", [("exceptionCode", code), ("exceptionMessage", err.message)], status)


def session_header(request: Request) -> str | None:
    token = request.headers.get("x-sfdc-session", "").strip()
    if token:
        return token
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    return bearer.strip() if scheme.lower() in ("bearer", "oauth") and bearer.strip() else None


def book_of(call: Call) -> BulkBook:
    state = call.request.app.state
    with _BOOK_LOCK:
        book: BulkBook | None = getattr(state, "bulk_v1_jobs", None)
        if book is None:
            book = state.bulk_v1_jobs = BulkBook()
    return book


def _job(call: Call) -> BulkJob:
    job = book_of(call).job(str(call.request.path_params["job_id"]))
    if job.created_by != call.user_id:
        raise bulk_error("InvalidUser", "The job was created by another user")
    return job


async def _fields(call: Call) -> dict[str, Any]:
    """The job fields of a create or update request, from JSON or XML."""
    raw = await call.request.body()
    if wants_json(call.request):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise bulk_error("InvalidJob", "Unable to parse the JSON request") from None
        if not isinstance(body, dict):
            raise bulk_error("InvalidJob", "The request must be a JSON object")
        return body
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        raise bulk_error("InvalidXML", "The XML of the request is not valid") from None
    return {child.tag.rpartition("}")[2]: child.text or "" for child in root}


def _job_answer(call: Call, job: BulkJob, status: int = 200) -> Response:
    pairs = job.info()
    if wants_json(call.request) or (not call.request.headers.get("content-type")
                                    and job.content_type == "JSON"):
        return json_response(dict(pairs), status)
    return xml("jobInfo", pairs, status)


def _in_job_format(job: BulkJob, root: str, pairs: list[tuple[str, object]]) -> Response:
    return json_response(dict(pairs)) if job.content_type == "JSON" else xml(root, pairs)


async def create_job(call: Call) -> Response:
    body = await _fields(call)
    operation = str(body.get("operation") or "")
    if operation not in OPERATIONS:
        raise bulk_error("InvalidJob", f"Invalid operation: {operation or 'null'}")
    content = str(body.get("contentType") or "XML")
    if content not in CONTENT_TYPES:
        raise bulk_error("InvalidJob", f"contentType {content} is not supported by the local "
                         "org: use CSV or JSON")
    try:
        obj = sobject_of(call, str(body.get("object") or ""))
    except ApiError:
        raise bulk_error("InvalidJob", f"Unable to find object: {body.get('object')}") from None
    external = None
    if operation == "upsert":
        name = str(body.get("externalIdFieldName") or "")
        ext = obj.field(name) if name else None
        if ext is None or not (ext.external_id or ext.id_lookup or ext.name == "Id"):
            raise bulk_error("InvalidJob", f"Field name provided, {name or 'null'} is not an "
                             f"External ID or indexed field for {obj.name}")
        external = ext.name
    mode = body.get("concurrencyMode")
    book, stamp = book_of(call), call.org.store.stamp()
    job = BulkJob(id=book.new_id(JOB_PREFIX), operation=operation, sobject=obj.name,
                  content_type=content, created_by=call.user_id, created_date=stamp,
                  api_version=call.version, external_id_field=external,
                  concurrency="Serial" if mode in ("Serial", 1, "1") else "Parallel")
    book.add(job)
    return _job_answer(call, job, 201)


async def job_resource(call: Call) -> Response:
    job = _job(call)
    if call.request.method == "GET":
        return _job_answer(call, job)
    target = str((await _fields(call)).get("state") or "")
    with job.lock:
        if target not in (CLOSED, ABORTED) or (job.state != OPEN and target != ABORTED) \
                or job.state == ABORTED:
            raise bulk_error("InvalidJobState", f"Invalid state {target or 'null'} for a job "
                             f"that is {job.state}")
        job.state = target
        job.modstamp = call.org.store.stamp()
    return _job_answer(call, job)


async def batches(call: Call) -> Response:
    job = _job(call)
    if call.request.method == "GET":
        infos = [b.info() for b in list(job.batches.values())]
        if job.content_type == "JSON":
            return json_response({"batchInfo": [dict(i) for i in infos]})
        inner = "".join("<batchInfo>" + "".join(f"<{k}>{_xml_value(v)}</{k}>" for k, v in i)
                        + "</batchInfo>" for i in infos)
        return Response(f'<?xml version="1.0" encoding="UTF-8"?><batchInfoList '
                        f'xmlns="{ASYNC_NS}">{inner}</batchInfoList>',
                        media_type="application/xml")
    data = await call.request.body()
    with job.lock:
        if job.state != OPEN:
            raise bulk_error("InvalidJobState", f"Job {job.id} is {job.state}: batches can "
                             "only be added to an Open job")
        batch = Batch(id=book_of(call).new_id(BATCH_PREFIX), job_id=job.id,
                      created_date=call.org.store.stamp(), data=data)
        job.batches[batch.id] = batch
    call.org.bulk_tally.batch()  # every Bulk API 1.0 batch counts against the day's
    queued = batch.info()
    threading.Thread(target=process_batch, args=(call.org, job, batch), name="bulk-v1-batch",
                     daemon=True).start()
    # The answer says Queued, as Salesforce's always does; a small batch is given a moment to
    # finish first, so a client's first status check finds it done instead of sleeping its
    # poll interval (5 s in simple-salesforce, 20 s in tap-salesforce) on a batch of ten rows.
    for _ in range(GRACE_POLLS):
        if batch.state in BATCH_DONE:
            break
        await asyncio.sleep(0.01)
    answer = _in_job_format(job, "batchInfo", queued)
    answer.status_code = 201
    return answer


async def batch_resource(call: Call) -> Response:
    job = _job(call)
    batch = batch_of(job, str(call.request.path_params["batch_id"]))
    return _in_job_format(job, "batchInfo", batch.info())


async def batch_request(call: Call) -> Response:
    job = _job(call)
    batch = batch_of(job, str(call.request.path_params["batch_id"]))
    media = "application/json" if job.content_type == "JSON" else "text/csv"
    return Response(batch.data, media_type=media)


def _finished(batch: Batch) -> None:
    if batch.state != "Completed" and not (batch.state == "Failed" and batch.outcomes):
        raise bulk_error("InvalidBatch", f"Batch not completed: {batch.id} is {batch.state}")


async def batch_results(call: Call) -> Response:
    job = _job(call)
    batch = batch_of(job, str(call.request.path_params["batch_id"]))
    _finished(batch)
    if job.is_query:
        if job.content_type == "JSON":
            return json_response(batch.result_ids)
        inner = "".join(f"<result>{r}</result>" for r in batch.result_ids)
        return Response(f'<?xml version="1.0" encoding="UTF-8"?><result-list '
                        f'xmlns="{ASYNC_NS}">{inner}</result-list>',
                        media_type="application/xml")
    if job.content_type == "JSON":
        return json_response(ingest_results_json(batch))
    return Response(ingest_results_csv(batch), media_type="text/csv")


async def query_result(call: Call) -> Response:
    job = _job(call)
    batch = batch_of(job, str(call.request.path_params["batch_id"]))
    _finished(batch)
    if not job.is_query:
        raise bulk_error("InvalidBatch", "Results by id exist only for query batches")
    result_id = str(call.request.path_params["result_id"])
    if job.content_type == "JSON":
        return json_response(query_result_json(batch, result_id))
    return Response(query_result_csv(batch, result_id), media_type="text/csv")


def _route(path: str, handler: Any, methods: list[str]) -> Route:
    """``handler`` behind the API gate, with the session header and error shape of 1.0."""

    async def endpoint(request: Request) -> Response:
        inner = api_route(handler, token_of=session_header,
                          render=lambda err: render_error(request, err))
        return await inner(request)

    return Route(path, endpoint, methods=methods)


ROUTES: list[BaseRoute] = [Mount("/services/async/{version}", routes=[
    _route("/job", create_job, ["POST"]),
    _route("/job/{job_id}", job_resource, ["GET", "POST"]),
    _route("/job/{job_id}/batch", batches, ["GET", "POST"]),
    _route("/job/{job_id}/batch/{batch_id}", batch_resource, ["GET"]),
    _route("/job/{job_id}/batch/{batch_id}/request", batch_request, ["GET"]),
    _route("/job/{job_id}/batch/{batch_id}/result", batch_results, ["GET"]),
    _route("/job/{job_id}/batch/{batch_id}/result/{result_id}", query_result, ["GET"]),
])]
