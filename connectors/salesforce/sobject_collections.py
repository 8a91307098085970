"""sObject Collections writes: 200 records a call, children of one parent kept together.

A Collections request writes up to 200 records for one API call with ``allOrNone=false``, so
each record succeeds or fails alone and the request answers 200 either way. Records that share a
group key (the milestones of one plan) go in the same request when they fit: spread over two
concurrent requests they would contend for the parent's row lock (``UNABLE_TO_LOCK_ROW``).
Records that fail transiently are sent again, alone, under the retry policy, and every record's
final outcome is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import structlog

from config.batching import batched
from config.errors import RetryableError
from connectors.salesforce.errors import RecordError
from connectors.salesforce.results import RecordResult, retryable
from connectors.salesforce.transport import Transport

log = structlog.get_logger(__name__)

COLLECTION_SIZE = 200
GroupKey = Callable[[dict[str, Any]], Hashable] | str | None


class _RecordsPending(RetryableError):
    """Some records of a request failed transiently and are worth another attempt."""


def group_function(group_key: str | Callable[[dict[str, Any]], Hashable]
                   ) -> Callable[[dict[str, Any]], Hashable]:
    """The group of a record: the value of field ``group_key``, or ``group_key(record)``."""
    if isinstance(group_key, str):
        field = group_key
        return lambda record: record.get(field)
    return group_key


def pack(records: Sequence[dict[str, Any]], group_key: GroupKey = None,
         size: int = COLLECTION_SIZE) -> list[list[dict[str, Any]]]:
    """Split ``records`` into requests of at most ``size``, keeping each group in one request
    when it fits (first fit, largest groups first; a group larger than ``size`` is split)."""
    return [[records[i] for i in chunk] for chunk in pack_positions(records, group_key, size)]


def pack_positions(records: Sequence[dict[str, Any]], group_key: GroupKey = None,
                   size: int = COLLECTION_SIZE) -> list[list[int]]:
    """:func:`pack`, as positions in ``records``."""
    if group_key is None:
        return list(batched(range(len(records)), size))
    key = group_function(group_key)
    groups: dict[Hashable, list[int]] = {}
    for position, record in enumerate(records):
        groups.setdefault(key(record), []).append(position)
    chunks: list[list[int]] = []
    pieces = [piece for members in groups.values() for piece in batched(members, size)]
    for piece in sorted(pieces, key=len, reverse=True):
        for chunk in chunks:
            if len(chunk) + len(piece) <= size:
                chunk.extend(piece)
                break
        else:
            chunks.append(list(piece))
    return chunks


def _with_record_retries(transport: Transport, count: int,
                         send: Callable[[list[int]], list[RecordResult]]) -> list[RecordResult]:
    """Send records ``0..count-1``, then again those that failed transiently, until none do or
    the policy's attempts run out; a request-level error is retried the same way."""
    results: dict[int, RecordResult] = {}
    pending = list(range(count))
    try:
        for attempt in transport.policy.retrying():
            with attempt:
                batch = list(pending)

                def send_batch(batch: list[int] = batch) -> list[RecordResult]:
                    return send(batch)

                answered = transport.with_session(send_batch)
                results.update(zip(batch, answered, strict=True))
                pending = [i for i in pending if retryable(results[i])]
                if pending:
                    first = results[pending[0]]
                    raise _RecordsPending(f"{len(pending)} records failed transiently, e.g. "
                                          f"{first.message}")
    except _RecordsPending as still:
        log.warning("salesforce.records.retries_exhausted", records=len(pending),
                    error=str(still))
    return [results[i] for i in range(count)]


def upsert(transport: Transport, sobject: str, external_id_field: str,
           records: Sequence[dict[str, Any]], group_key: GroupKey = None) -> list[RecordResult]:
    """Upsert ``records`` by ``external_id_field``; one result per record, in input order."""
    for record in records:
        if external_id_field not in record:
            raise ValueError(f"every record needs {external_id_field} to be upserted")
    path = f"composite/sobjects/{sobject}/{external_id_field}"
    out: list[RecordResult | None] = [None] * len(records)
    for positions in pack_positions(records, group_key):
        def send(indexes: list[int], positions: list[int] = positions) -> list[RecordResult]:
            batch = [records[positions[i]] for i in indexes]
            body = {"allOrNone": False,
                    "records": [{"attributes": {"type": sobject}, **r} for r in batch]}
            response = transport.send_once("PATCH", path, json=body,
                                           context=f"upsert {len(batch)} {sobject}")
            return _results(response.json(), [_text(r[external_id_field]) for r in batch])

        answered = _with_record_retries(transport, len(positions), send)
        for position, result in zip(positions, answered, strict=True):
            out[position] = result
    log.info("salesforce.upsert", sobject=sobject, records=len(records),
             failed=sum(1 for r in out if r is not None and not r.success))
    return [r for r in out if r is not None]


def update(transport: Transport, sobject: str, records: Sequence[dict[str, Any]],
           group_key: GroupKey = None) -> list[RecordResult]:
    """Update records addressed by ``Id`` (``PATCH composite/sobjects``); one result per
    record, in input order.

    Records that exist only by Id (an Opportunity's rollup fields) are written this way:
    a Collections upsert takes external id fields only, never ``Id``."""
    for record in records:
        if not record.get("Id"):
            raise ValueError("every record needs its Id to be updated")
    out: list[RecordResult | None] = [None] * len(records)
    for positions in pack_positions(records, group_key):
        def send(indexes: list[int], positions: list[int] = positions) -> list[RecordResult]:
            batch = [records[positions[i]] for i in indexes]
            body = {"allOrNone": False,
                    "records": [{"attributes": {"type": sobject}, **r} for r in batch]}
            response = transport.send_once("PATCH", "composite/sobjects", json=body,
                                           context=f"update {len(batch)} {sobject}")
            return _results(response.json(), [_text(r["Id"]) for r in batch])

        answered = _with_record_retries(transport, len(positions), send)
        for position, result in zip(positions, answered, strict=True):
            out[position] = result
    log.info("salesforce.update", sobject=sobject, records=len(records),
             failed=sum(1 for r in out if r is not None and not r.success))
    return [r for r in out if r is not None]


def delete(transport: Transport, ids: Sequence[str]) -> list[RecordResult]:
    """Delete records by Id, 200 a call; a record already deleted counts as done."""
    out: list[RecordResult] = []
    for chunk in batched(ids, COLLECTION_SIZE):

        def send(indexes: list[int], chunk: list[str] = chunk) -> list[RecordResult]:
            batch = [chunk[i] for i in indexes]
            response = transport.send_once(
                "DELETE", "composite/sobjects",
                params={"ids": ",".join(batch), "allOrNone": "false"},
                context=f"delete {len(batch)} records")
            return [_deleted(r) for r in _results(response.json(), batch)]

        out.extend(_with_record_retries(transport, len(chunk), send))
    return out


def _deleted(result: RecordResult) -> RecordResult:
    if not result.success and result.errors and all(
            e.code == "ENTITY_IS_DELETED" for e in result.errors):
        return RecordResult(external_id=result.external_id, id=result.id or result.external_id,
                            success=True, errors=result.errors, outcome="ok")
    return result


def _results(payload: Any, keys: Sequence[str | None]) -> list[RecordResult]:
    """Pair a Collections response with the records sent, by position (Salesforce's order)."""
    if not isinstance(payload, list) or len(payload) != len(keys):
        size = len(payload) if isinstance(payload, list) else "no"
        raise RetryableError(f"Collections answered {size} results for {len(keys)} records")
    return [RecordResult.from_collections(item, key) for item, key in zip(payload, keys,
                                                                          strict=True)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["COLLECTION_SIZE", "RecordError", "RecordResult", "delete", "pack", "update",
           "upsert"]
