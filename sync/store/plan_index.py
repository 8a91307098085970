"""The plan index (Opportunity ↔ plan record ↔ milestone records) and tombstones.

The index saves a query per Opportunity: the cycle knows which plan and milestone records
exist without asking Salesforce. Tombstones remember plans a rep deleted, so the worker does
not recreate them; only an explicit backfill flag clears one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Row

from config.batching import batched
from sync.store.canonical import canonical_json
from sync.store.models import plan_index_table as p
from sync.store.models import tombstone_table as ts
from sync.store.records import PlanIndexEntry, Tombstone
from sync.store.sql import IN_CHUNK, upsert

_PLAN_COLUMNS = (p.c.opportunity_id, p.c.plan_id, p.c.milestones_json)


def get(
    conn: Connection, org_id: str, opportunity_ids: Iterable[str]
) -> dict[str, PlanIndexEntry]:
    """The index entry of each of ``opportunity_ids`` that has one, by Opportunity Id."""
    out: dict[str, PlanIndexEntry] = {}
    for chunk in batched(sorted(set(opportunity_ids)), IN_CHUNK):
        rows = conn.execute(
            select(*_PLAN_COLUMNS).where(p.c.org_id == org_id, p.c.opportunity_id.in_(chunk))
        )
        for r in rows:
            out[r.opportunity_id] = _entry(r)
    return out


def by_plan_id(conn: Connection, org_id: str, plan_id: str) -> PlanIndexEntry | None:
    """The entry whose plan record is ``plan_id`` (a pulled plan → its Opportunity)."""
    row = conn.execute(
        select(*_PLAN_COLUMNS).where(p.c.org_id == org_id, p.c.plan_id == plan_id)
    ).first()
    return _entry(row) if row is not None else None


def put(conn: Connection, org_id: str, entries: Iterable[PlanIndexEntry], now: datetime) -> int:
    """Record (or replace) index entries; return how many. A ``plan_id`` of ``None`` keeps
    the plan Id already recorded; the milestones map is replaced whole."""
    rows = [{
        "org_id": org_id,
        "opportunity_id": e.opportunity_id,
        "plan_id": e.plan_id,
        "milestones_json": canonical_json(e.milestones),
        "updated_at": now,
    } for e in entries]
    upsert(conn, p, rows, keys=["org_id", "opportunity_id"], keep_when_null=["plan_id"])
    return len(rows)


def remove(conn: Connection, org_id: str, opportunity_ids: Iterable[str]) -> int:
    """Drop the entries of removed plans; return how many."""
    removed = 0
    for chunk in batched(sorted(set(opportunity_ids)), IN_CHUNK):
        removed += conn.execute(
            delete(p).where(p.c.org_id == org_id, p.c.opportunity_id.in_(chunk))
        ).rowcount
    return removed


def _entry(r: Row[Any]) -> PlanIndexEntry:
    return PlanIndexEntry(r.opportunity_id, r.plan_id, json.loads(r.milestones_json))


def add_tombstone(
    conn: Connection, org_id: str, opportunity_id: str, now: datetime,
    deleted_by: str | None = None, deleted_at: datetime | None = None,
) -> None:
    """Remember that a rep deleted this Opportunity's plan (the first deletion is kept)."""
    upsert(conn, ts, [{
        "org_id": org_id,
        "opportunity_id": opportunity_id,
        "deleted_at": deleted_at or now,
        "deleted_by": deleted_by,
    }], keys=["org_id", "opportunity_id"], update=[])


def remove_tombstone(conn: Connection, org_id: str, opportunity_id: str) -> bool:
    """Let the plan be created again (explicit backfill flag); ``True`` if there was one."""
    result = conn.execute(
        delete(ts).where(ts.c.org_id == org_id, ts.c.opportunity_id == opportunity_id)
    )
    return result.rowcount > 0


def tombstone(conn: Connection, org_id: str, opportunity_id: str) -> Tombstone | None:
    """The tombstone of ``opportunity_id``'s plan, if a rep deleted it."""
    row = conn.execute(
        select(ts.c.opportunity_id, ts.c.deleted_at, ts.c.deleted_by)
        .where(ts.c.org_id == org_id, ts.c.opportunity_id == opportunity_id)
    ).first()
    return Tombstone(row.opportunity_id, row.deleted_at, row.deleted_by) if row else None


def tombstoned_ids(conn: Connection, org_id: str, opportunity_ids: Iterable[str]) -> set[str]:
    """Which of ``opportunity_ids`` have a tombstone."""
    out: set[str] = set()
    for chunk in batched(sorted(set(opportunity_ids)), IN_CHUNK):
        out.update(conn.scalars(
            select(ts.c.opportunity_id)
            .where(ts.c.org_id == org_id, ts.c.opportunity_id.in_(chunk))
        ))
    return out
