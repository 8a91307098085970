"""The store's tables: everything mapsync must remember between runs, keyed by org.

The local database is a working copy, never the master: Salesforce holds the plans. What
lives here is what a crash must not lose and what Salesforce cannot tell us cheaply: how far
each object has been read (watermarks), what mapsync itself last wrote (the shadow, for
rep-edit detection: only what a decision reads back, in compact form), which plan belongs to
which Opportunity, which plans a rep deleted (tombstones), the history of runs, the writes
Salesforce refused (dead letters), who runs which org (leases) and how far a backfill got
(checkpoints).

Every table starts with ``org_id`` (the shadow: with its scope, which names the org) so
several orgs can share one PostgreSQL. JSON values are
stored as canonical JSON text (``sync.store.canonical``) so their hashes are stable and both
backends store byte-identical values. Timestamps are UTC; SQLite keeps them naive, so one
column type converts at the boundary and callers always get aware datetimes back.

The schema is versioned by Alembic (``sync/store/migrations``); a test proves the migrations
build exactly these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, LargeBinary, MetaData, Text, UniqueConstraint, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

store_metadata = MetaData(naming_convention=NAMING_CONVENTION)

ORG_ID = 64
SF_ID = 18
OBJECT_NAME = 80
EXTERNAL_ID = 255
SHORT = 16

ACTIVE_DEAD_LETTER = "status IN ('open', 'parked')"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no timezone; use UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StoreTable(SQLModel, registry=registry(metadata=store_metadata)):
    """Base of the store's tables, on their own metadata (not the process-wide default)."""


class WatermarkRow(StoreTable, table=True):
    """How far an object has been read: the last ``SystemModstamp`` and the Ids seen at it."""

    __tablename__ = "watermark"

    org_id: str = Field(primary_key=True, max_length=ORG_ID)
    object_name: str = Field(primary_key=True, max_length=OBJECT_NAME)
    systemmodstamp: datetime = Field(sa_type=UTCDateTime)
    ids_at_json: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ShadowScopeRow(StoreTable, table=True):
    """One org's records of one object: the shadow's rows name it by this small id, so the
    org and object names are stored once, not on each of millions of rows."""

    __tablename__ = "shadow_scope"
    __table_args__ = (UniqueConstraint("org_id", "object_name"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(max_length=ORG_ID)
    object_name: str = Field(max_length=OBJECT_NAME)


class ShadowLayoutRow(StoreTable, table=True):
    """The sorted field names of shadows, stored once; its id (a hash of the names) leads each
    shadow's value bytes (``sync.store.compact``)."""

    __tablename__ = "shadow_layout"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    names_json: str = Field(sa_type=Text)


class ShadowRow(StoreTable, table=True):
    """What mapsync last wrote to one record, in compact form (``sync.store.compact``): the
    record's external id and Salesforce Id packed, its kept fields' values in a few bytes
    each. A table without rowid on SQLite: the key is the row's only copy of it."""

    __tablename__ = "shadow"
    __table_args__ = {"sqlite_with_rowid": False}

    scope_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    record_key: bytes = Field(primary_key=True, sa_type=LargeBinary)
    record_id: bytes | None = Field(default=None, sa_type=LargeBinary)
    fields: bytes = Field(sa_type=LargeBinary)


class PlanIndexRow(StoreTable, table=True):
    """Which plan (and which milestone records, by key) belongs to an Opportunity."""

    __tablename__ = "plan_index"
    __table_args__ = (Index(None, "org_id", "plan_id"),)

    org_id: str = Field(primary_key=True, max_length=ORG_ID)
    opportunity_id: str = Field(primary_key=True, max_length=SF_ID)
    plan_id: str | None = Field(default=None, max_length=SF_ID)
    milestones_json: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TombstoneRow(StoreTable, table=True):
    """A plan a rep deleted: the worker must not recreate it (only an explicit backfill may)."""

    __tablename__ = "tombstone"

    org_id: str = Field(primary_key=True, max_length=ORG_ID)
    opportunity_id: str = Field(primary_key=True, max_length=SF_ID)
    deleted_at: datetime = Field(sa_type=UTCDateTime)
    deleted_by: str | None = Field(default=None, max_length=EXTERNAL_ID)


class RunRow(StoreTable, table=True):
    """One run of the engine (cycle, backfill, reconcile, retry) and what it did."""

    __tablename__ = "sync_run"
    __table_args__ = (Index(None, "org_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(max_length=ORG_ID)
    kind: str = Field(max_length=SHORT)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(max_length=SHORT)
    counts_json: str = Field(sa_type=Text)
    api_calls: int = Field(default=0)
    error: str | None = Field(default=None, sa_type=Text)


class DeadLetterRow(StoreTable, table=True):
    """A write Salesforce refused, kept with its error until retried, resolved or discarded.

    At most one *active* (open or parked) letter exists per record and operation: a repeated
    failure bumps ``attempts`` on it instead of adding a row (a partial unique index holds
    this on both backends).
    """

    __tablename__ = "dead_letter"
    __table_args__ = (
        Index(None, "org_id", "status"),
        Index(
            "uq_dead_letter_active", "org_id", "object_name", "external_id", "operation",
            unique=True,
            sqlite_where=text(ACTIVE_DEAD_LETTER),
            postgresql_where=text(ACTIVE_DEAD_LETTER),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(max_length=ORG_ID)
    object_name: str = Field(max_length=OBJECT_NAME)
    external_id: str = Field(max_length=EXTERNAL_ID)
    operation: str = Field(max_length=SHORT)
    payload_json: str = Field(sa_type=Text)
    error_code: str | None = Field(default=None, max_length=OBJECT_NAME)
    error_message: str = Field(sa_type=Text)
    attempts: int = Field(default=1)
    first_seen: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=SHORT)
    discard_reason: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LeaseRow(StoreTable, table=True):
    """Which worker runs an org, until when; renewed by heartbeat, taken over once expired."""

    __tablename__ = "lease"

    org_id: str = Field(primary_key=True, max_length=ORG_ID)
    holder: str = Field(max_length=EXTERNAL_ID)
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime)


class BackfillCheckpointRow(StoreTable, table=True):
    """How far a backfill got: its parameters, the last committed cursor, counts, status."""

    __tablename__ = "backfill_checkpoint"
    __table_args__ = (Index(None, "org_id", "status"),)

    backfill_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(max_length=ORG_ID)
    parameters_json: str = Field(sa_type=Text)
    cursor: str | None = Field(default=None, sa_type=Text)
    counts_json: str = Field(sa_type=Text)
    status: str = Field(max_length=SHORT)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


watermark_table = WatermarkRow.__table__  # type: ignore[attr-defined]
shadow_table = ShadowRow.__table__  # type: ignore[attr-defined]
shadow_scope_table = ShadowScopeRow.__table__  # type: ignore[attr-defined]
shadow_layout_table = ShadowLayoutRow.__table__  # type: ignore[attr-defined]
plan_index_table = PlanIndexRow.__table__  # type: ignore[attr-defined]
tombstone_table = TombstoneRow.__table__  # type: ignore[attr-defined]
run_table = RunRow.__table__  # type: ignore[attr-defined]
dead_letter_table = DeadLetterRow.__table__  # type: ignore[attr-defined]
lease_table = LeaseRow.__table__  # type: ignore[attr-defined]
checkpoint_table = BackfillCheckpointRow.__table__  # type: ignore[attr-defined]
