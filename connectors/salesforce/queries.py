"""Reading with SOQL in the fewest calls: lazy paging, and several queries in one request.

A query answers at most 2,000 rows a page (``Sforce-Query-Options: batchSize``), each page one
API call; pages are fetched only as the caller iterates, so a million rows never sit in memory.
A sync poll asks several questions at once (changed Opportunities, plans, milestones): up to five
queries ride in one Composite request for one call, and the next pages of those that have more
are bundled the same way, so a poll that finds nothing costs a single call. Resources that are
not queries (Get Updated, Get Deleted) do not count toward Salesforce's five: they ride in the
first of those calls (:func:`composite_read`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from config.errors import RetryableError
from connectors.salesforce.errors import error_from_body
from connectors.salesforce.transport import Transport

MAX_BATCH = 2000
MAX_SUBREQUESTS = 25  # per Composite request, of which at most five queries
MIN_BATCH = 200
QUERIES_PER_COMPOSITE = 5
LOCATOR_RESTARTS = 3
INVALID_LOCATOR = "INVALID_QUERY_LOCATOR"


def _query_options(batch_size: int) -> dict[str, str]:
    if not MIN_BATCH <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be between {MIN_BATCH} and {MAX_BATCH}, "
                         f"got {batch_size}")
    return {"Sforce-Query-Options": f"batchSize={batch_size}"}


def iterate(transport: Transport, soql: str, *, include_deleted: bool,
            batch_size: int = MAX_BATCH) -> Iterator[dict[str, Any]]:
    """Rows of ``soql``, page after page through ``nextRecordsUrl``, fetched lazily."""
    headers = _query_options(batch_size)
    resource = "queryAll" if include_deleted else "query"
    page = transport.request("GET", resource, params={"q": soql}, headers=headers,
                             context=f"{resource} {_shorten(soql)}").json()
    while True:
        yield from page.get("records", [])
        next_url = page.get("nextRecordsUrl")
        if page.get("done", True) or not next_url:
            return
        page = transport.request("GET", next_url, headers=headers,
                                 context=f"{resource} next page").json()


def count(transport: Transport, soql: str) -> int:
    """``totalSize`` of a ``SELECT COUNT() …`` query."""
    page = transport.request("GET", "query", params={"q": soql},
                             context=f"query {_shorten(soql)}").json()
    return int(page.get("totalSize", 0))


Answer = tuple[int, Any]  # a resource subrequest's HTTP status and parsed body


def composite(transport: Transport, soqls: Sequence[str], *,
              include_deleted: bool = True) -> list[list[dict[str, Any]]]:
    """All rows of each query, in order; five queries (or next pages) per Composite call."""
    return composite_read(transport, soqls, (), include_deleted=include_deleted)[0]


def composite_read(transport: Transport, soqls: Sequence[str], resources: Sequence[str], *,
                   include_deleted: bool = True) -> tuple[list[list[dict[str, Any]]],
                                                          list[Answer]]:
    """All rows of each query, and the answer of each resource (a path under the API
    version, e.g. ``sobjects/Task/updated/?start=…&end=…``): status and body, an error body
    included, for the caller to judge. The resources ride in the first Composite call.

    At most five queries are open at a time: a new query starts only when one of the open
    ones has read its last page. Salesforce keeps a bounded number of open query cursors per
    user and silently releases the oldest past it (the next page then fails with
    ``INVALID_QUERY_LOCATOR``), so opening every query's first page before reading any second
    page gets a large read stuck. A locator that is invalid all the same (expired, released
    by another session of the same user) re-runs that query from its start, a few times.
    """
    if len(resources) > MAX_SUBREQUESTS - QUERIES_PER_COMPOSITE:
        raise ValueError(f"at most {MAX_SUBREQUESTS - QUERIES_PER_COMPOSITE} resources ride "
                         f"in a poll, got {len(resources)}")
    resource = "queryAll" if include_deleted else "query"
    first = [f"{transport.data_path}/{resource}?{urlencode({'q': q})}" for q in soqls]
    extra = [f"{transport.data_path}/{path.lstrip('/')}" for path in resources]
    answers: list[Answer] = []
    rows: list[list[dict[str, Any]]] = [[] for _ in soqls]
    restarts = [0] * len(soqls)
    waiting = list(range(len(soqls)))
    open_pages: list[tuple[int, str]] = []  # (query, URL of its next page)
    while waiting or open_pages or extra:
        while waiting and len(open_pages) < QUERIES_PER_COMPOSITE:
            n = waiting.pop(0)
            open_pages.append((n, first[n]))
        following: list[tuple[int, str]] = []
        pages, answered = _composite_call(transport, open_pages, soqls, extra)
        if extra:
            answers, extra = answered, []
        for n, page in pages:
            if page is None:  # the locator is gone: read this query again from its start
                restarts[n] += 1
                if restarts[n] > LOCATOR_RESTARTS:
                    raise RetryableError(f"query {_shorten(soqls[n])}: its query locator was "
                                         f"invalidated {restarts[n]} times",
                                         error_code=INVALID_LOCATOR)
                rows[n] = []
                following.append((n, first[n]))
                continue
            rows[n].extend(page.get("records", []))
            if not page.get("done", True) and page.get("nextRecordsUrl"):
                following.append((n, str(page["nextRecordsUrl"])))
        open_pages = following
    return rows, answers


Pages = list[tuple[int, dict[str, Any] | None]]


def _composite_call(transport: Transport, chunk: list[tuple[int, str]], soqls: Sequence[str],
                    extra: Sequence[str] = ()) -> tuple[Pages, list[Answer]]:
    """One Composite request of GET subrequests; a failed query raises its own error,
    except an invalid query locator, answered as ``None`` (read that query again). The
    ``extra`` resources are answered as they come, errors included."""
    subs = [{"method": "GET", "url": url, "referenceId": f"q{n}"} for n, url in chunk]
    subs += [{"method": "GET", "url": url, "referenceId": f"r{n}"} for n, url in enumerate(extra)]
    body = {"allOrNone": False, "compositeRequest": subs}

    def attempt() -> tuple[Pages, list[Answer]]:
        response = transport.send_once("POST", "composite", json=body,
                                       context=f"composite of {len(subs)} subrequests")
        answered: Pages = []
        others: list[Answer] = [(500, None)] * len(extra)
        for sub in response.json().get("compositeResponse", []):
            ref = str(sub.get("referenceId", "q-1"))
            status = int(sub.get("httpStatusCode", 500))
            if ref.startswith("r"):
                others[int(ref[1:])] = (status, sub.get("body"))
                continue
            n = int(ref[1:])
            if status >= 300:
                error = error_from_body(status, json.dumps(sub.get("body")),
                                        f"query {_shorten(soqls[n])}")
                if error.error_code == INVALID_LOCATOR:
                    answered.append((n, None))
                    continue
                raise error
            answered.append((n, sub.get("body") or {}))
        return answered, others

    return transport.policy.call(lambda: transport.with_session(attempt))


def _shorten(soql: str, limit: int = 120) -> str:
    text = " ".join(soql.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
