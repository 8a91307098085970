"""Watermarks: per (org, object), the ``SystemModstamp`` read up to and the Ids seen at it.

They are written only inside the unit of work that commits the data they cover, so a crash
can never leave a watermark ahead of the shadow and plan index it vouches for.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sync.store.canonical import canonical_json
from sync.store.models import watermark_table as t
from sync.store.records import Watermark
from sync.store.sql import upsert


def get(conn: Connection, org_id: str, object_name: str) -> Watermark | None:
    """The watermark of ``object_name`` in ``org_id``; ``None`` before the first read."""
    row = conn.execute(
        select(t.c.systemmodstamp, t.c.ids_at_json)
        .where(t.c.org_id == org_id, t.c.object_name == object_name)
    ).first()
    if row is None:
        return None
    return Watermark(row.systemmodstamp, frozenset(json.loads(row.ids_at_json)))


def put(conn: Connection, org_id: str, object_name: str, mark: Watermark, now: datetime) -> None:
    """Set the watermark (replacing any earlier one)."""
    upsert(conn, t, [{
        "org_id": org_id,
        "object_name": object_name,
        "systemmodstamp": mark.systemmodstamp,
        "ids_at_json": canonical_json(sorted(mark.ids_at)),
        "updated_at": now,
    }], keys=["org_id", "object_name"])


def all_for(conn: Connection, org_id: str) -> dict[str, Watermark]:
    """Every object's watermark in ``org_id`` (for status)."""
    rows = conn.execute(
        select(t.c.object_name, t.c.systemmodstamp, t.c.ids_at_json).where(t.c.org_id == org_id)
    )
    return {
        r.object_name: Watermark(r.systemmodstamp, frozenset(json.loads(r.ids_at_json)))
        for r in rows
    }


def updated_at(conn: Connection, org_id: str) -> dict[str, datetime]:
    """When each object's watermark was last advanced (for lag in ``mapsync status``)."""
    rows = conn.execute(
        select(t.c.object_name, t.c.updated_at).where(t.c.org_id == org_id)
    )
    return {r.object_name: r.updated_at for r in rows}
