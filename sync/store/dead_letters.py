"""Dead letters: writes Salesforce refused, kept with the error until something ends them.

Nothing is silently dropped: a record that cannot be written is recorded here with its
payload and Salesforce's error code and message. A record keeps at most one *active* (open
or parked) letter per operation: failing again bumps its ``attempts`` and refreshes payload
and error instead of adding a row. Letters leave the active set by being resolved (a later
write succeeded) or discarded (with a reason); parked letters wait for a person.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Row

from sync.store.canonical import canonical_json
from sync.store.errors import DeadLetterStateError
from sync.store.models import dead_letter_table as t
from sync.store.records import ACTIVE_DEAD_LETTER_STATUSES, DeadLetter, DeadLetterStatus

_ACTIVE = [s.value for s in ACTIVE_DEAD_LETTER_STATUSES]


def add(
    conn: Connection, org_id: str, object_name: str, external_id: str, operation: str,
    payload: Mapping[str, Any], code: str | None, message: str, now: datetime,
    next_attempt_at: datetime | None = None,
) -> int:
    """Record a refused write; an active letter for the same write is bumped (attempts + 1,
    newest payload and error, and its retry time replaced by ``next_attempt_at``: a retry
    policy then schedules from ``last_seen`` and ``attempts``). Return the letter's id."""
    existing = conn.execute(
        select(t.c.id).where(
            t.c.org_id == org_id, t.c.object_name == object_name,
            t.c.external_id == external_id, t.c.operation == operation,
            t.c.status.in_(_ACTIVE),
        ).with_for_update()
    ).scalar()
    values: dict[str, Any] = {
        "payload_json": canonical_json(dict(payload)), "error_code": code,
        "error_message": message, "last_seen": now, "next_attempt_at": next_attempt_at,
    }
    if existing is not None:
        conn.execute(update(t).where(t.c.id == existing).values(
            attempts=t.c.attempts + 1, **values))
        return int(existing)
    result = conn.execute(insert(t).values(
        org_id=org_id, object_name=object_name, external_id=external_id, operation=operation,
        attempts=1, first_seen=now, status=DeadLetterStatus.OPEN.value, **values,
    ))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get(conn: Connection, letter_id: int) -> DeadLetter | None:
    """Letter ``letter_id``, if it exists."""
    row = conn.execute(select(t).where(t.c.id == letter_id)).first()
    return _letter(row) if row is not None else None


def listing(
    conn: Connection, org_id: str, status: DeadLetterStatus | str | None = None,
    object_name: str | None = None, limit: int | None = None,
) -> list[DeadLetter]:
    """The letters of ``org_id`` (filtered by status and object), oldest first."""
    query = select(t).where(t.c.org_id == org_id)
    if status is not None:
        query = query.where(t.c.status == DeadLetterStatus(status).value)
    if object_name is not None:
        query = query.where(t.c.object_name == object_name)
    return [_letter(r) for r in conn.execute(query.order_by(t.c.id).limit(limit))]


def due(conn: Connection, org_id: str, now: datetime, limit: int | None = None) -> list[DeadLetter]:
    """Open letters whose next attempt is due (or never scheduled), oldest first."""
    query = select(t).where(
        t.c.org_id == org_id, t.c.status == DeadLetterStatus.OPEN.value,
        (t.c.next_attempt_at.is_(None)) | (t.c.next_attempt_at <= now),
    ).order_by(t.c.id).limit(limit)
    return [_letter(r) for r in conn.execute(query)]


def counts(conn: Connection, org_id: str) -> dict[DeadLetterStatus, int]:
    """How many letters ``org_id`` has in each status (every status present, maybe 0)."""
    out = dict.fromkeys(DeadLetterStatus, 0)
    rows = conn.execute(
        select(t.c.status, func.count()).where(t.c.org_id == org_id).group_by(t.c.status)
    )
    for status, n in rows:
        out[DeadLetterStatus(status)] = int(n)
    return out


def mark_attempt(
    conn: Connection, letter_id: int, next_attempt_at: datetime | None, now: datetime,
    code: str | None = None, message: str | None = None,
) -> None:
    """Count one more (failed) attempt on an open letter and schedule the next."""
    values: dict[str, Any] = {"last_seen": now, "next_attempt_at": next_attempt_at}
    if message is not None:
        values.update(error_code=code, error_message=message)
    _transition(conn, letter_id, (DeadLetterStatus.OPEN,), "retried",
                attempts=t.c.attempts + 1, **values)


def resolve(conn: Connection, letter_id: int, now: datetime) -> None:
    """A later write of the record succeeded."""
    _transition(conn, letter_id, ACTIVE_DEAD_LETTER_STATUSES, "resolved",
                status=DeadLetterStatus.RESOLVED.value, next_attempt_at=None, last_seen=now)


def discard(conn: Connection, letter_id: int, reason: str, now: datetime) -> None:
    """A person gave up on the write, saying why."""
    if not reason.strip():
        raise ValueError("discarding a dead letter needs a reason")
    _transition(conn, letter_id, ACTIVE_DEAD_LETTER_STATUSES, "discarded",
                status=DeadLetterStatus.DISCARDED.value, discard_reason=reason,
                next_attempt_at=None, last_seen=now)


def park(conn: Connection, letter_id: int, now: datetime) -> None:
    """Stop retrying automatically; the letter waits for a person."""
    _transition(conn, letter_id, (DeadLetterStatus.OPEN,), "parked",
                status=DeadLetterStatus.PARKED.value, next_attempt_at=None, last_seen=now)


def reopen(conn: Connection, letter_id: int, now: datetime) -> None:
    """Retry a parked letter on the next run."""
    _transition(conn, letter_id, (DeadLetterStatus.PARKED,), "reopened",
                status=DeadLetterStatus.OPEN.value, next_attempt_at=now)


def _transition(
    conn: Connection, letter_id: int, allowed: tuple[DeadLetterStatus, ...], verb: str,
    **values: Any,
) -> None:
    result = conn.execute(
        update(t).where(t.c.id == letter_id, t.c.status.in_([s.value for s in allowed]))
        .values(**values)
    )
    if result.rowcount == 1:
        return
    current = conn.execute(select(t.c.status).where(t.c.id == letter_id)).scalar()
    if current is None:
        raise DeadLetterStateError(f"dead letter {letter_id} does not exist")
    names = " or ".join(s.value for s in allowed)
    raise DeadLetterStateError(
        f"dead letter {letter_id} is {current}; only {names} letters can be {verb}"
    )


def _letter(r: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=r.id, org_id=r.org_id, object_name=r.object_name, external_id=r.external_id,
        operation=r.operation, payload=json.loads(r.payload_json), error_code=r.error_code,
        error_message=r.error_message, attempts=r.attempts, first_seen=r.first_seen,
        last_seen=r.last_seen, status=DeadLetterStatus(r.status),
        discard_reason=r.discard_reason, next_attempt_at=r.next_attempt_at,
    )
