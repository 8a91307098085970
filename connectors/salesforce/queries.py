"""Reading with SOQL in the fewest calls: lazy paging, and several queries in one request.

A query answers at most 2,000 rows a page (``Sforce-Query-Options: batchSize``), each page one
API call; pages are fetched only as the caller iterates, so a million rows never sit in memory.
A sync poll asks several questions at once (changed Opportunities, plans, milestones): up to five
queries ride in one Composite request for one call, and the next pages of those that have more
are bundled the same way, so a poll that finds nothing costs a single call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from config.batching import batched
from connectors.salesforce.errors import error_from_body
from connectors.salesforce.transport import Transport

MAX_BATCH = 2000
MIN_BATCH = 200
QUERIES_PER_COMPOSITE = 5


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


def composite(transport: Transport, soqls: Sequence[str], *,
              include_deleted: bool = True) -> list[list[dict[str, Any]]]:
    """All rows of each query, in order; five queries (or next pages) per Composite call."""
    resource = "queryAll" if include_deleted else "query"
    rows: list[list[dict[str, Any]]] = [[] for _ in soqls]
    pending = [(n, f"{transport.data_path}/{resource}?{urlencode({'q': q})}")
               for n, q in enumerate(soqls)]
    while pending:
        following: list[tuple[int, str]] = []
        for chunk in batched(pending, QUERIES_PER_COMPOSITE):
            for n, page in _composite_call(transport, chunk, soqls):
                rows[n].extend(page.get("records", []))
                if not page.get("done", True) and page.get("nextRecordsUrl"):
                    following.append((n, str(page["nextRecordsUrl"])))
        pending = following
    return rows


def _composite_call(transport: Transport, chunk: list[tuple[int, str]],
                    soqls: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    """One Composite request of GET subrequests; a failed subrequest raises its own error."""
    body = {"allOrNone": False,
            "compositeRequest": [{"method": "GET", "url": url, "referenceId": f"q{n}"}
                                 for n, url in chunk]}

    def attempt() -> list[tuple[int, dict[str, Any]]]:
        response = transport.send_once("POST", "composite", json=body,
                                       context=f"composite of {len(chunk)} queries")
        answered: list[tuple[int, dict[str, Any]]] = []
        for sub in response.json().get("compositeResponse", []):
            n = int(str(sub.get("referenceId", "q-1"))[1:])
            status = int(sub.get("httpStatusCode", 500))
            if status >= 300:
                raise error_from_body(status, json.dumps(sub.get("body")),
                                      f"query {_shorten(soqls[n])}")
            answered.append((n, sub.get("body") or {}))
        return answered

    return transport.policy.call(lambda: transport.with_session(attempt))


def _shorten(soql: str, limit: int = 120) -> str:
    text = " ".join(soql.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
