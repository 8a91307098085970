"""The shadow: what mapsync last wrote to each service-managed field of each record.

The diff compares desired values with it (only changed fields go out), echo suppression
compares pulled values with it, and rep-pinned fields are detected by Salesforce no longer
holding the shadow's value. Writes come in bulk (a backfill writes 100k+ records), so they
go out as batched upserts; reads go by chunks of external ids, or stream a whole object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Row

from config.batching import batched
from sync.store.canonical import canonical_json, decode, text_hash
from sync.store.models import shadow_table as t
from sync.store.records import ShadowRecord, ShadowWrite
from sync.store.sql import IN_CHUNK, upsert

_COLUMNS = (t.c.external_id, t.c.record_id, t.c.fields_json, t.c.fields_hash)


def get(
    conn: Connection, org_id: str, object_name: str, external_ids: Iterable[str]
) -> dict[str, ShadowRecord]:
    """The shadow of each of ``external_ids`` that has one, by external id."""
    out: dict[str, ShadowRecord] = {}
    for chunk in batched(sorted(set(external_ids)), IN_CHUNK):
        rows = conn.execute(
            select(*_COLUMNS).where(
                t.c.org_id == org_id, t.c.object_name == object_name, t.c.external_id.in_(chunk)
            )
        )
        for r in rows:
            out[r.external_id] = _record(r)
    return out


def iterate(conn: Connection, org_id: str, object_name: str) -> Iterator[ShadowRecord]:
    """Every shadow of ``object_name`` in ``org_id``, in external-id order, streamed."""
    result = conn.execution_options(yield_per=5_000).execute(
        select(*_COLUMNS)
        .where(t.c.org_id == org_id, t.c.object_name == object_name)
        .order_by(t.c.external_id)
    )
    for r in result:
        yield _record(r)


def put(
    conn: Connection, org_id: str, object_name: str, writes: Iterable[ShadowWrite], now: datetime
) -> int:
    """Record what was written (replacing earlier values); return how many records.

    A ``record_id`` of ``None`` means "not known here" and keeps the Id already recorded.
    """
    rows = []
    for w in writes:
        text = canonical_json(w.fields)
        rows.append({
            "org_id": org_id,
            "object_name": object_name,
            "external_id": w.external_id,
            "record_id": w.record_id,
            "fields_json": text,
            "fields_hash": text_hash(text),
            "written_at": now,
        })
    upsert(conn, t, rows, keys=["org_id", "object_name", "external_id"],
           keep_when_null=["record_id"])
    return len(rows)


def remove(conn: Connection, org_id: str, object_name: str, external_ids: Iterable[str]) -> int:
    """Forget the shadow of records that no longer exist; return how many were removed."""
    removed = 0
    for chunk in batched(sorted(set(external_ids)), IN_CHUNK):
        result = conn.execute(
            delete(t).where(
                t.c.org_id == org_id, t.c.object_name == object_name, t.c.external_id.in_(chunk)
            )
        )
        removed += result.rowcount
    return removed


def _record(r: Row[Any]) -> ShadowRecord:
    return ShadowRecord(r.external_id, r.record_id, decode(r.fields_json), r.fields_hash)
