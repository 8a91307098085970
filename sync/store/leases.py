"""Leases: which worker runs which org, so any number of workers can share the orgs.

One row per org names its holder and when the lease expires. A worker takes a free or
expired lease, renews it by heartbeat while it works, and releases it when done; a worker
that dies simply stops renewing, and its lease expires. Each operation is its own short
transaction, never part of a sync's unit of work.

On PostgreSQL the row is read with ``SELECT … FOR UPDATE SKIP LOCKED``: a worker never waits
on another's lease operation, it just moves on to the next org. On SQLite (one machine) the
same logic runs under ``BEGIN IMMEDIATE``, which serialises it.

A holder whose lease lapsed may still renew it as long as nobody took it over meanwhile. A
unit of work can fence its commit with :func:`holds` (``Transaction.holds_lease``).

Expiry is judged by the store's clock. Workers on several machines must keep their clocks in
step (NTP), with a TTL far above any skew (the worker's TTL is minutes, skew milliseconds).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from sync.store.engine import BEGIN_MODE
from sync.store.models import lease_table as t
from sync.store.records import Lease


def try_acquire(engine: Engine, org_id: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take the lease of ``org_id`` if it is free, expired or already ``holder``'s."""
    if ttl <= timedelta(0):
        raise ValueError("a lease needs a positive time to live")
    with engine.begin() as conn:
        row = conn.execute(
            select(t.c.holder, t.c.expires_at).where(t.c.org_id == org_id)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            # Either nobody holds it, or another worker is busy with the row this instant.
            return _insert_if_absent(conn, org_id, holder, ttl, now)
        if row.holder != holder and row.expires_at > now:
            return False
        acquired = {} if row.holder == holder else {"acquired_at": now}
        conn.execute(update(t).where(t.c.org_id == org_id).values(
            holder=holder, expires_at=now + ttl, heartbeat_at=now, **acquired))
        return True


def take_over(engine: Engine, org_id: str, dead: str, holder: str, ttl: timedelta,
              now: datetime) -> bool:
    """Take the lease from ``dead`` (a holder known to be gone) if it still holds it: a
    compare-and-set, so two processes taking over at once cannot both win."""
    with engine.begin() as conn:
        result = conn.execute(update(t).where(t.c.org_id == org_id, t.c.holder == dead)
                              .values(holder=holder, expires_at=now + ttl, heartbeat_at=now,
                                      acquired_at=now))
        return result.rowcount == 1


def renew(engine: Engine, org_id: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Extend ``holder``'s lease by ``ttl`` from now; ``False`` if it is no longer theirs."""
    with engine.begin() as conn:
        result = conn.execute(update(t).where(t.c.org_id == org_id, t.c.holder == holder)
                              .values(expires_at=now + ttl, heartbeat_at=now))
        return result.rowcount == 1


def heartbeat(engine: Engine, org_id: str, holder: str, now: datetime) -> bool:
    """Renew ``holder``'s lease for the same time to live it was last given."""
    with engine.begin() as conn:
        row = conn.execute(
            select(t.c.expires_at, t.c.heartbeat_at)
            .where(t.c.org_id == org_id, t.c.holder == holder).with_for_update()
        ).first()
        if row is None:
            return False
        ttl = row.expires_at - row.heartbeat_at
        conn.execute(update(t).where(t.c.org_id == org_id)
                      .values(expires_at=now + ttl, heartbeat_at=now))
        return True


def release(engine: Engine, org_id: str, holder: str) -> bool:
    """Give the lease up (only ``holder`` can); ``True`` if it was theirs."""
    with engine.begin() as conn:
        result = conn.execute(delete(t).where(t.c.org_id == org_id, t.c.holder == holder))
        return result.rowcount == 1


def get(engine: Engine, org_id: str) -> Lease | None:
    """The lease row of ``org_id`` as stored, expired or not."""
    with engine.connect() as conn:
        conn.execution_options(**{BEGIN_MODE: "DEFERRED"})
        row = conn.execute(select(t).where(t.c.org_id == org_id)).first()
        conn.rollback()
    return _lease(row) if row is not None else None


def holder(engine: Engine, org_id: str, now: datetime) -> str | None:
    """Who holds a live (unexpired) lease on ``org_id``."""
    lease = get(engine, org_id)
    if lease is None or lease.expires_at <= now:
        return None
    return lease.holder


def _insert_if_absent(
    conn: Connection, org_id: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(
        org_id=org_id, holder=holder, acquired_at=now, expires_at=now + ttl, heartbeat_at=now,
    ).on_conflict_do_nothing(index_elements=["org_id"]).returning(t.c.org_id)
    return conn.execute(stmt).first() is not None


def _lease(r: Row[Any]) -> Lease:
    return Lease(r.org_id, r.holder, r.acquired_at, r.expires_at, r.heartbeat_at)


def holds(conn: Connection, org_id: str, holder: str, now: datetime) -> bool:
    """Inside a unit of work: does ``holder`` still hold a live lease on ``org_id``?

    On PostgreSQL the lease row stays share-locked until the unit commits, so no other worker
    can take the lease over between this check and the commit (a fence against a worker that
    stalled past its lease and wakes up to write).
    """
    row = conn.execute(
        select(t.c.holder, t.c.expires_at).where(t.c.org_id == org_id)
        .with_for_update(read=True)
    ).first()
    return row is not None and row.holder == holder and row.expires_at > now
