"""Backfill checkpoints: a backfill's parameters and the last cursor committed with its data.

A backfill over a million Opportunities runs for hours; ``--resume`` continues from the
cursor of the last batch whose shadow and index writes committed, because the checkpoint is
written in that same unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from sync.store.canonical import canonical_json
from sync.store.models import checkpoint_table as t
from sync.store.records import BackfillCheckpoint, BackfillStatus
from sync.store.sql import upsert

RESUMABLE = (BackfillStatus.RUNNING, BackfillStatus.PAUSED)


def get(conn: Connection, backfill_id: str) -> BackfillCheckpoint | None:
    """The checkpoint of ``backfill_id``, if it was ever written."""
    row = conn.execute(select(t).where(t.c.backfill_id == backfill_id)).first()
    return _checkpoint(row) if row is not None else None


def put(
    conn: Connection, backfill_id: str, org_id: str, parameters: Mapping[str, Any],
    cursor: str | None, counts: Mapping[str, Any], status: BackfillStatus | str,
    now: datetime,
) -> None:
    """Write the checkpoint (its creation time is kept from the first write)."""
    upsert(conn, t, [{
        "backfill_id": backfill_id, "org_id": org_id,
        "parameters_json": canonical_json(dict(parameters)), "cursor": cursor,
        "counts_json": canonical_json(dict(counts)), "status": BackfillStatus(status).value,
        "created_at": now, "updated_at": now,
    }], keys=["backfill_id"],
        update=["org_id", "parameters_json", "cursor", "counts_json", "status", "updated_at"])


def listing(
    conn: Connection, org_id: str, statuses: tuple[BackfillStatus, ...] | None = None
) -> list[BackfillCheckpoint]:
    """Backfills of ``org_id`` (in the given statuses), most recently updated first."""
    query = select(t).where(t.c.org_id == org_id)
    if statuses is not None:
        query = query.where(t.c.status.in_([s.value for s in statuses]))
    rows = conn.execute(query.order_by(t.c.updated_at.desc(), t.c.backfill_id))
    return [_checkpoint(r) for r in rows]


def _checkpoint(r: Row[Any]) -> BackfillCheckpoint:
    return BackfillCheckpoint(
        backfill_id=r.backfill_id, org_id=r.org_id, parameters=json.loads(r.parameters_json),
        cursor=r.cursor, counts=json.loads(r.counts_json), status=BackfillStatus(r.status),
        created_at=r.created_at, updated_at=r.updated_at,
    )
