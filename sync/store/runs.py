"""Run history: one row per cycle, backfill, reconcile or retry, with counts and API calls.

``mapsync status`` reads it; a run left ``running`` after its process died is how a crash
shows up. The finishing write belongs to the run's unit of work, so a run is recorded as
succeeded only together with the watermarks and shadow it produced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from sync.store.canonical import canonical_json
from sync.store.models import run_table as t
from sync.store.records import Run, RunKind, RunOutcome

ERROR_LIMIT = 4_000


def start(conn: Connection, org_id: str, kind: RunKind | str, now: datetime) -> int:
    """Record that a run began; return its id."""
    result = conn.execute(insert(t).values(
        org_id=org_id, kind=RunKind(kind).value, started_at=now,
        outcome=RunOutcome.RUNNING.value, counts_json="{}", api_calls=0,
    ))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def finish(
    conn: Connection, run_id: int, outcome: RunOutcome | str, counts: Mapping[str, Any],
    api_calls: int, now: datetime, error: str | None = None,
) -> None:
    """Record how run ``run_id`` ended."""
    final = RunOutcome(outcome)
    if final is RunOutcome.RUNNING:
        raise ValueError("a finished run needs an outcome other than 'running'")
    result = conn.execute(update(t).where(t.c.id == run_id).values(
        finished_at=now, outcome=final.value, counts_json=canonical_json(dict(counts)),
        api_calls=api_calls, error=error[:ERROR_LIMIT] if error else None,
    ))
    if result.rowcount != 1:
        raise LookupError(f"no run with id {run_id}")


def get(conn: Connection, run_id: int) -> Run | None:
    """Run ``run_id``, if it exists."""
    row = conn.execute(select(t).where(t.c.id == run_id)).first()
    return _run(row) if row is not None else None


def latest(
    conn: Connection, org_id: str, n: int = 10, kind: RunKind | str | None = None
) -> list[Run]:
    """The ``n`` most recent runs of ``org_id`` (of one ``kind`` if given), newest first."""
    query = select(t).where(t.c.org_id == org_id)
    if kind is not None:
        query = query.where(t.c.kind == RunKind(kind).value)
    rows = conn.execute(query.order_by(t.c.started_at.desc(), t.c.id.desc()).limit(n))
    return [_run(r) for r in rows]


def _run(r: Row[Any]) -> Run:
    return Run(
        id=r.id, org_id=r.org_id, kind=RunKind(r.kind), started_at=r.started_at,
        finished_at=r.finished_at, outcome=RunOutcome(r.outcome),
        counts=json.loads(r.counts_json), api_calls=r.api_calls, error=r.error,
    )
