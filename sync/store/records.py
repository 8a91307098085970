"""What the store hands out and takes in: plain, immutable values, never database rows.

Callers (the sync cycle, backfill, worker, CLI) work with these and never see SQLAlchemy, so
the tables can change behind a migration without touching them. Timestamps are UTC-aware;
JSON values come back in canonical form (``sync.store.canonical``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.store.canonical import fields_hash
from sync.store.compact import Digest


@dataclass(frozen=True)
class Watermark:
    """How far an object has been read: the newest ``SystemModstamp`` taken and the Ids seen
    at exactly that instant (ties are re-read with the lookback and dropped by Id)."""

    systemmodstamp: datetime
    ids_at: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ShadowRecord:
    """What the shadow keeps of what mapsync last wrote to one record: the fields its writer
    chose to keep, each as written (canonical form) or as a :class:`~sync.store.compact.Digest`
    (equal to the value it stands for)."""

    external_id: str
    record_id: str | None
    fields: dict[str, Any]

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the fields' canonical JSON (a digest counts as its hex text)."""
        return fields_hash({k: f"digest:{v.value.hex()}" if isinstance(v, Digest) else v
                            for k, v in self.fields.items()})


@dataclass(frozen=True)
class ShadowWrite:
    """One record's written values, for :meth:`Transaction.put_shadows`."""

    external_id: str
    record_id: str | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class PlanIndexEntry:
    """The plan record of an Opportunity and its milestone records by key (Id once known)."""

    opportunity_id: str
    plan_id: str | None
    milestones: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Tombstone:
    """A plan a rep deleted; the worker does not recreate it."""

    opportunity_id: str
    deleted_at: datetime
    deleted_by: str | None


class RunKind(StrEnum):
    """What kind of run it was."""

    CYCLE = "cycle"
    BACKFILL = "backfill"
    RECONCILE = "reconcile"
    RETRY = "retry"
    # Dry runs decide and write nothing; kinds of their own keep them apart in status.
    BACKFILL_DRY_RUN = "backfill_dry"
    RECONCILE_DRY_RUN = "reconcile_dry"


class RunOutcome(StrEnum):
    """How a run ended; ``running`` until it is finished (or forever, if it crashed)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some records went to dead letters
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"


@dataclass(frozen=True)
class Run:
    """One run (a cycle, a backfill batch, a reconcile batch, a retry) and what it did."""

    id: int
    org_id: str
    kind: RunKind
    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    counts: dict[str, Any]
    api_calls: int
    error: str | None


class DeadLetterStatus(StrEnum):
    """Where a refused write stands: open (to retry), parked (waits for a person),
    resolved (a later write succeeded) or discarded (a person gave up on it, with a reason)."""

    OPEN = "open"
    PARKED = "parked"
    RESOLVED = "resolved"
    DISCARDED = "discarded"


ACTIVE_DEAD_LETTER_STATUSES = (DeadLetterStatus.OPEN, DeadLetterStatus.PARKED)


@dataclass(frozen=True)
class DeadLetter:
    """A write Salesforce refused, with its payload and Salesforce's error."""

    id: int
    org_id: str
    object_name: str
    external_id: str
    operation: str
    payload: dict[str, Any]
    error_code: str | None
    error_message: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    status: DeadLetterStatus
    discard_reason: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Lease:
    """Which worker runs an org, and until when."""

    org_id: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    heartbeat_at: datetime


class BackfillStatus(StrEnum):
    """Where a backfill stands; ``running`` and ``paused`` ones can be resumed."""

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class BackfillCheckpoint:
    """A backfill's parameters and the last cursor committed with its data."""

    backfill_id: str
    org_id: str
    parameters: dict[str, Any]
    cursor: str | None
    counts: dict[str, Any]
    status: BackfillStatus
    created_at: datetime
    updated_at: datetime
