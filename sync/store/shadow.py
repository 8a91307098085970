"""The shadow: what mapsync last wrote to each record, kept as compactly as deciding allows.

The cycle reads it back for two things: a rep's edit (Salesforce no longer holds what mapsync
wrote, so equality is all it needs: a :class:`~sync.store.compact.Digest` will do) and the few
values a decision reads as such (a plan's template, a milestone's status and dates). What to
keep of a record, verbatim or as a digest, is the caller's choice: the store keeps exactly the
fields it is given, in the compact form of ``sync.store.compact``, keyed by a small id for the
org and object (``shadow_scope``) and the packed external id. Writes come in bulk (a backfill
writes 100k+ records), so they go out as batched upserts; reads go by chunks of external ids,
or stream a whole object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from config.batching import batched
from config.errors import FatalError
from sync.store.compact import decode_values, encode, layout_of, pack_key, unpack_key
from sync.store.models import shadow_layout_table as layouts
from sync.store.models import shadow_scope_table as scopes
from sync.store.models import shadow_table as t
from sync.store.records import ShadowRecord, ShadowWrite
from sync.store.sql import IN_CHUNK, upsert

_COLUMNS = (t.c.record_key, t.c.record_id, t.c.fields)
# Layouts are named by a hash of their content, so one read from any database is right for
# all of them: a process-wide cache, never stale.
_LAYOUTS: dict[int, tuple[str, ...]] = {}


def scope_id(conn: Connection, org_id: str, object_name: str, *, create: bool) -> int | None:
    """The small id of ``org_id``'s ``object_name`` records (made when ``create``)."""
    query = select(scopes.c.id).where(scopes.c.org_id == org_id,
                                      scopes.c.object_name == object_name)
    found = conn.execute(query).scalar()
    if found is None and create:
        upsert(conn, scopes, [{"org_id": org_id, "object_name": object_name}],
               keys=["org_id", "object_name"], update=[])
        found = conn.execute(query).scalar_one()
    return None if found is None else int(found)


def get(
    conn: Connection, org_id: str, object_name: str, external_ids: Iterable[str]
) -> dict[str, ShadowRecord]:
    """The shadow of each of ``external_ids`` that has one, by external id."""
    scope = scope_id(conn, org_id, object_name, create=False)
    if scope is None:
        return {}
    wanted = {pack_key(e): e for e in set(external_ids)}
    out: dict[str, ShadowRecord] = {}
    for chunk in batched(sorted(wanted), IN_CHUNK):
        rows = conn.execute(
            select(*_COLUMNS).where(t.c.scope_id == scope, t.c.record_key.in_(chunk))).all()
        for r in rows:
            key = bytes(r.record_key)
            out[wanted[key]] = _record(conn, wanted[key], r.record_id, bytes(r.fields))
    return out


def iterate(conn: Connection, org_id: str, object_name: str) -> Iterator[ShadowRecord]:
    """Every shadow of ``object_name`` in ``org_id``, in packed-key order (Ids in Id order),
    streamed."""
    scope = scope_id(conn, org_id, object_name, create=False)
    if scope is None:
        return
    result = conn.execute(select(*_COLUMNS).where(t.c.scope_id == scope)
                          .order_by(t.c.record_key).execution_options(yield_per=5_000))
    for r in result:
        yield _record(conn, unpack_key(bytes(r.record_key)), r.record_id, bytes(r.fields))


def put(
    conn: Connection, org_id: str, object_name: str, writes: Iterable[ShadowWrite],
    now: datetime,
) -> int:
    """Record what was written (replacing earlier values); return how many records.

    A ``record_id`` of ``None`` means "not known here" and keeps the Id already recorded.
    """
    del now  # what was written matters, not when: the run record has the time
    rows: list[dict[str, Any]] = []
    seen: dict[int, tuple[str, ...]] = {}
    scope: int | None = None
    for w in writes:
        if scope is None:
            scope = scope_id(conn, org_id, object_name, create=True)
        names, data = encode(w.fields)
        seen[layout_of(data)] = names
        rows.append({
            "scope_id": scope,
            "record_key": pack_key(w.external_id),
            "record_id": pack_key(w.record_id) if w.record_id else None,
            "fields": data,
        })
    _put_layouts(conn, seen)
    upsert(conn, t, rows, keys=["scope_id", "record_key"], keep_when_null=["record_id"])
    return len(rows)


def remove(conn: Connection, org_id: str, object_name: str, external_ids: Iterable[str]) -> int:
    """Forget the shadow of records that no longer exist; return how many were removed."""
    scope = scope_id(conn, org_id, object_name, create=False)
    if scope is None:
        return 0
    removed = 0
    for chunk in batched(sorted({pack_key(e) for e in external_ids}), IN_CHUNK):
        removed += conn.execute(
            delete(t).where(t.c.scope_id == scope, t.c.record_key.in_(chunk))).rowcount
    return removed


def _put_layouts(conn: Connection, seen: dict[int, tuple[str, ...]]) -> None:
    """Store the layouts of a write (every time: one that a rolled-back transaction stored is
    gone), and make sure no other layout has the same id."""
    if not seen:
        return
    upsert(conn, layouts, [{"id": i, "names_json": json.dumps(list(n))}
                           for i, n in sorted(seen.items())], keys=["id"], update=[])
    for layout, names in seen.items():
        if _LAYOUTS.get(layout) is None:
            _load_layouts(conn, [layout])
        if _LAYOUTS.get(layout) != names:
            raise FatalError(f"shadow layout {layout} is taken by other fields "
                             f"({_LAYOUTS.get(layout)}, not {names})")


def _load_layouts(conn: Connection, ids: list[int]) -> None:
    for row in conn.execute(select(layouts.c.id, layouts.c.names_json)
                            .where(layouts.c.id.in_(ids))):
        _LAYOUTS[int(row.id)] = tuple(json.loads(row.names_json))


def _record(conn: Connection, external_id: str, record_id: Any, data: bytes) -> ShadowRecord:
    layout = layout_of(data)
    if layout not in _LAYOUTS:
        _load_layouts(conn, [layout])
    fields = decode_values(_LAYOUTS[layout], data)
    rid = unpack_key(bytes(record_id)) if record_id is not None else None
    return ShadowRecord(external_id, rid, fields)
