"""Bulk API 2.0 over HTTP: ingest and query jobs under ``/services/data/vNN.0/jobs``.

These are the resources simple-salesforce's ``sf.bulk2``, jsforce's ``conn.bulk2`` and
mapsync's own Bulk client call, answered with Salesforce's statuses, JSON job shapes and CSV
results. Every request is one API call, as Salesforce counts it. A job runs in a background
thread once it is closed (ingest) or created (query), so clients see it move through
UploadComplete and InProgress to JobComplete by polling, as they do against Salesforce.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from connectors.emulator.bulk_files import UPLOAD, UPLOAD_PART, JobFiles, stream_file
from connectors.emulator.bulk_ingest import process_ingest
from connectors.emulator.bulk_jobs import (
    ABORTED,
    DELIMITERS,
    FAILED,
    FINISHED,
    INGEST_OPERATIONS,
    JOB_COMPLETE,
    LINE_ENDINGS,
    OPEN,
    QUERY_OPERATIONS,
    UPLOAD_COMPLETE,
    Job,
    JobBook,
    invalid_job,
)
from connectors.emulator.bulk_query import (
    DEFAULT_PAGE,
    compile_job_query,
    decode_locator,
    next_locator,
    page_count,
    page_pieces,
    run_query,
)
from connectors.emulator.bulk_results import Body, failed_body, successful_body, unprocessed_body
from connectors.emulator.errors import ApiError
from connectors.emulator.gate import Call, json_response
from connectors.emulator.routing import api

# Salesforce takes at most 150 MB of upload counted after it base64-encodes the CSV (so
# about 112 MB of CSV; it advises 100 MB): a larger upload is refused whole.
MAX_UPLOAD_BASE64_BYTES = 150_000_000
_BOOK_LOCK = threading.Lock()


def book_of(call: Call) -> JobBook:
    """The org's Bulk jobs, kept with the running app."""
    state = call.request.app.state
    with _BOOK_LOCK:
        book: JobBook | None = getattr(state, "bulk_jobs", None)
        if book is None:
            book = JobBook()
            state.bulk_jobs = book
    return book


def _start(target: Any, *args: Any) -> None:
    threading.Thread(target=target, args=args, name="bulk-job", daemon=True).start()


def _csv(text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text, media_type="text/csv", headers=headers)


def _results(body: Body) -> Response:
    """A results resource: a job's results file is streamed, never read whole."""
    if isinstance(body, str):
        return _csv(body)
    pieces = stream_file(body) if isinstance(body, Path) else body
    return StreamingResponse(pieces, media_type="text/csv")


async def _options(call: Call) -> dict[str, Any]:
    body = await call.json()
    if not isinstance(body, dict):
        raise invalid_job("InvalidJob : the request body must be a JSON object")
    content = body.get("contentType", "CSV")
    if content != "CSV":
        raise invalid_job(f"InvalidJob : contentType {content} is not supported, use CSV")
    if body.get("lineEnding", "LF") not in LINE_ENDINGS:
        raise invalid_job(f"InvalidJob : Invalid lineEnding: {body.get('lineEnding')}")
    if body.get("columnDelimiter", "COMMA") not in DELIMITERS:
        raise invalid_job(f"InvalidJob : Invalid columnDelimiter: "
                          f"{body.get('columnDelimiter')}")
    return body


def _new_job(call: Call, kind: str, body: dict[str, Any], operation: str,
             sobject: str) -> Job:
    stamp = call.org.store.stamp()
    job_id = book_of(call).new_id()
    return Job(id=job_id, kind=kind, operation=operation, sobject=sobject,
               created_by=call.user_id, created_date=stamp, modstamp=stamp,
               api_version=call.version, line_ending=body.get("lineEnding", "LF"),
               column_delimiter=body.get("columnDelimiter", "COMMA"),
               files=JobFiles(call.org.bulk_dir / job_id))  # the running org's disk


def _listing(jobs: list[Job]) -> Response:
    return json_response({"done": True, "records": [j.info() for j in jobs],
                          "nextRecordsUrl": None})


# ---- ingest -------------------------------------------------------------------------------

async def ingest_jobs(call: Call) -> Response:
    if call.request.method == "GET":
        return _listing(book_of(call).all("ingest"))
    body = await _options(call)
    operation = body.get("operation")
    if operation not in INGEST_OPERATIONS:
        raise invalid_job(f"InvalidJob : Invalid operation: {operation}")
    obj = call.org.schema.get(str(body.get("object") or ""))
    if obj is None or call.schema.get(obj.name) is None:
        raise invalid_job(f"InvalidJob : Unable to find object: {body.get('object')}")
    job = _new_job(call, "ingest", body, str(operation), obj.name)
    if operation == "upsert":
        name = str(body.get("externalIdFieldName") or "")
        ext = obj.field(name) if name else None
        if not name:
            raise invalid_job("InvalidJob : External ID field name is required for upsert")
        if ext is None or not (ext.external_id or ext.id_lookup or ext.name == "Id"):
            raise invalid_job(f"InvalidJob : Field name provided, {name} is not an External "
                              f"ID or indexed field for {obj.name}")
        job.external_id_field = ext.name
    book_of(call).add(job)
    return json_response(job.info(detail=False))


async def ingest_job(call: Call) -> Response:
    job = book_of(call).get(str(call.request.path_params["job_id"]), "ingest")
    method = call.request.method
    if method == "GET":
        call.org.bulk_tally.poll()
        return json_response(job.info())
    if method == "DELETE":
        if job.state not in (UPLOAD_COMPLETE, *FINISHED):
            raise invalid_job(f"InvalidJob : Job {job.id} can not be deleted in state "
                              f"{job.state}")
        book_of(call).remove(job)
        return Response(status_code=204)
    target = await _target_state(call)
    with job.lock:
        if target == UPLOAD_COMPLETE:
            if job.state != OPEN:
                raise invalid_job(f"InvalidJob : Job {job.id} is in state {job.state} and "
                                  f"can not be set to {target}")
            job.state = UPLOAD_COMPLETE
            job.modstamp = call.org.store.stamp()
            call.org.bulk_tally.job()
            _start(process_ingest, call.org, job)
        else:
            _abort(call, job)
        return json_response(job.info(detail=False))


async def _target_state(call: Call) -> str:
    body = await call.json()
    state = body.get("state") if isinstance(body, dict) else None
    if state not in (UPLOAD_COMPLETE, ABORTED):
        raise ApiError(400, "INVALIDJOBSTATE", f"InvalidJobState : Invalid state: {state}")
    return str(state)


def _abort(call: Call, job: Job) -> None:
    if job.state in FINISHED:
        raise invalid_job(f"InvalidJob : Job {job.id} is in state {job.state} and can not "
                          f"be set to {ABORTED}")
    job.state = ABORTED
    job.modstamp = call.org.store.stamp()


def base64_length(size: int) -> int:
    """The bytes ``size`` bytes of upload count for once Salesforce base64-encodes them."""
    return 4 * -(-size // 3)


def _refuse_upload(job: Job) -> None:
    if job.state != OPEN:
        raise invalid_job(f"InvalidJob : Job {job.id} is in state {job.state}: data can "
                          "only be uploaded to an Open job")
    if job.uploaded:
        raise invalid_job(f"InvalidJob : Found multiple contents for job: {job.id}, "
                          "please 'Close' / 'Abort' / 'Delete' the current Job then "
                          "create a new Job and make sure you only do 'PUT' once on a "
                          "given Job.")


async def upload(call: Call) -> Response:
    """The job's CSV, written to its upload file as the request body arrives."""
    job = book_of(call).get(str(call.request.path_params["job_id"]), "ingest")
    assert job.files is not None
    with job.lock:
        _refuse_upload(job)
    # each request its own part file: of two PUTs racing, the first to finish is the upload
    part, size = job.files.path(f"{UPLOAD_PART}-{secrets.token_hex(4)}"), 0
    try:
        with part.open("wb") as out:
            async for piece in call.request.stream():
                size += len(piece)
                if base64_length(size) <= MAX_UPLOAD_BASE64_BYTES:
                    out.write(piece)
        if base64_length(size) > MAX_UPLOAD_BASE64_BYTES:  # refused once the body is read,
            # so the client hears it
            raise ApiError(413, "INVALIDJOB", "InvalidJob : the upload exceeds 150 MB "
                           "once base64-encoded")
        with job.lock:
            _refuse_upload(job)  # a second PUT may have finished first
            part.replace(job.files.path(UPLOAD))
        call.org.bulk_tally.upload(job.sobject, size)
    finally:
        part.unlink(missing_ok=True)
    return Response(status_code=201)


async def successful_results(call: Call) -> Response:
    job = book_of(call).get(str(call.request.path_params["job_id"]), "ingest")
    return _results(successful_body(job))


async def failed_results(call: Call) -> Response:
    job = book_of(call).get(str(call.request.path_params["job_id"]), "ingest")
    return _results(failed_body(job))


async def unprocessed_records(call: Call) -> Response:
    job = book_of(call).get(str(call.request.path_params["job_id"]), "ingest")
    return _results(unprocessed_body(job))


# ---- query --------------------------------------------------------------------------------

async def query_jobs(call: Call) -> Response:
    if call.request.method == "GET":
        return _listing(book_of(call).all("query"))
    body = await _options(call)
    operation = body.get("operation")
    if operation not in QUERY_OPERATIONS:
        raise invalid_job(f"InvalidJob : Invalid operation: {operation}")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise invalid_job("InvalidJob : The query is required")
    compiled = compile_job_query(call.org, text, operation == "queryAll", call.version,
                                 call.user_id)
    job = _new_job(call, "query", body, str(operation), compiled.sobject)
    job.query = text
    job.state = UPLOAD_COMPLETE
    book_of(call).add(job)
    answer = json_response(job.info(detail=False))
    call.org.bulk_tally.job()
    call.org.bulk_tally.query_job()
    _start(run_query, call.org, job, compiled)
    return answer


async def query_job(call: Call) -> Response:
    job = book_of(call).get(str(call.request.path_params["job_id"]), "query")
    method = call.request.method
    if method == "GET":
        call.org.bulk_tally.poll()
        return json_response(job.info())
    if method == "DELETE":
        if job.state not in FINISHED:
            raise invalid_job(f"InvalidJob : Job {job.id} can not be deleted in state "
                              f"{job.state}")
        book_of(call).remove(job)
        return Response(status_code=204)
    target = await _target_state(call)
    if target != ABORTED:
        raise invalid_job(f"InvalidJob : a query job can not be set to {target}")
    with job.lock:
        _abort(call, job)
    return json_response(job.info(detail=False))


async def query_results(call: Call) -> Response:
    job = book_of(call).get(str(call.request.path_params["job_id"]), "query")
    if job.state != JOB_COMPLETE:
        detail = job.error_message if job.state == FAILED else ""
        raise invalid_job(f"InvalidJob : Job {job.id} is in state {job.state}; results are "
                          f"ready once it is {JOB_COMPLETE}. {detail}".strip())
    params = call.request.query_params
    raw_max = params.get("maxRecords")
    if raw_max is not None and (not raw_max.isdigit() or int(raw_max) < 1):
        raise invalid_job(f"InvalidJob : Invalid maxRecords: {raw_max}")
    locator = params.get("locator")
    offset = decode_locator(locator) if locator and locator != "null" else 0
    if offset > job.processed:
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    count = page_count(job, offset, int(raw_max or DEFAULT_PAGE))
    # the page is rendered as it is sent: a 50,000-row page is never whole in memory
    return StreamingResponse(page_pieces(job, offset, count), media_type="text/csv",
                             headers={"Sforce-Locator": next_locator(job, offset, count),
                                      "Sforce-NumberOfRecords": str(count)})


ROUTES: list[BaseRoute] = [
    *api("/jobs/ingest", ingest_jobs, ["GET", "POST"]),
    *api("/jobs/ingest/{job_id}", ingest_job, ["GET", "PATCH", "DELETE"]),
    *api("/jobs/ingest/{job_id}/batches", upload, ["PUT"]),
    *api("/jobs/ingest/{job_id}/successfulResults", successful_results, ["GET"]),
    *api("/jobs/ingest/{job_id}/failedResults", failed_results, ["GET"]),
    *api("/jobs/ingest/{job_id}/unprocessedrecords", unprocessed_records, ["GET"]),
    # simple-salesforce spells it with a capital R, which Salesforce answers too
    *api("/jobs/ingest/{job_id}/unprocessedRecords", unprocessed_records, ["GET"]),
    *api("/jobs/query", query_jobs, ["GET", "POST"]),
    *api("/jobs/query/{job_id}", query_job, ["GET", "PATCH", "DELETE"]),
    *api("/jobs/query/{job_id}/results", query_results, ["GET"]),
]
