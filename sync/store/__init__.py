"""The local store: state that survives crashes, on SQLite or PostgreSQL.

Salesforce is the master; this is mapsync's working copy of what it must remember between
runs. Open it with :meth:`Store.open` (``DATABASE_URL``), write through one
:meth:`Store.transaction` per unit of work, coordinate workers with the lease methods.
"""

from sync.store.canonical import canonical_fields, canonical_json, fields_hash
from sync.store.errors import (
    DatabaseUnavailableError,
    DeadLetterStateError,
    NotAStoreError,
    SchemaOutOfDateError,
    StoreLockedError,
)
from sync.store.migrate import head_revision
from sync.store.records import (
    BackfillCheckpoint,
    BackfillStatus,
    DeadLetter,
    DeadLetterStatus,
    Lease,
    PlanIndexEntry,
    Run,
    RunKind,
    RunOutcome,
    ShadowRecord,
    ShadowWrite,
    Tombstone,
    Watermark,
)
from sync.store.store import Store, database_revision, upgrade_database
from sync.store.unit_of_work import Transaction

__all__ = [
    "BackfillCheckpoint",
    "BackfillStatus",
    "DatabaseUnavailableError",
    "DeadLetter",
    "DeadLetterStateError",
    "DeadLetterStatus",
    "Lease",
    "NotAStoreError",
    "PlanIndexEntry",
    "Run",
    "RunKind",
    "RunOutcome",
    "SchemaOutOfDateError",
    "ShadowRecord",
    "ShadowWrite",
    "Store",
    "StoreLockedError",
    "Tombstone",
    "Transaction",
    "Watermark",
    "canonical_fields",
    "canonical_json",
    "database_revision",
    "fields_hash",
    "head_revision",
    "upgrade_database",
]
