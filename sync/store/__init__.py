"""The local store: state that survives crashes, on SQLite or PostgreSQL.

Salesforce is the master; this is mapsync's working copy of what it must remember between
runs. Open it with :meth:`Store.open` (``DATABASE_URL``), write through one
:meth:`Store.transaction` per unit of work, coordinate workers with the lease methods.

The names below load on first use (PEP 562), so a pure module that needs only the plain
values of ``sync.store.records`` (a watermark, a run kind) does not load SQLAlchemy and
Alembic with them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "canonical_fields": "canonical", "canonical_json": "canonical", "fields_hash": "canonical",
    "DatabaseUnavailableError": "errors", "DeadLetterStateError": "errors",
    "SchemaOutOfDateError": "errors", "NotAStoreError": "errors",
    "StoreLockedError": "errors", "head_revision": "migrate",
    "BackfillCheckpoint": "records", "BackfillStatus": "records", "DeadLetter": "records",
    "DeadLetterStatus": "records", "Lease": "records", "PlanIndexEntry": "records",
    "Run": "records", "RunKind": "records", "RunOutcome": "records",
    "ShadowRecord": "records", "ShadowWrite": "records", "Tombstone": "records",
    "Watermark": "records", "Store": "store", "database_revision": "store",
    "upgrade_database": "store", "Transaction": "unit_of_work",
}
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sync.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sync.store.{home}"), name)
    globals()[name] = value
    return value
