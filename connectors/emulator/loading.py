"""Loading many rows at once: seeds and test fixtures.

A seed of 100,000 opportunities must take seconds, so rows that are valid by construction
skip the per-record checks of ``OrgStore.create`` and go in with one ``executemany``; they
still get what every record gets (defaults, derived fields, Ids, stamps, history rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.emulator.derived import derive
from connectors.emulator.schema import SObjectDef
from connectors.emulator.sqltext import q

if TYPE_CHECKING:
    from connectors.emulator.store import OrgStore


def load_rows(store: OrgStore, obj: SObjectDef, rows: list[dict[str, object]], user_id: str,
              stamp: str | None = None) -> list[str]:
    """Insert ``rows`` (stored values, already valid) with defaults, derived fields, Ids and
    stamps filled in, in one statement; their history is written with them."""
    stamp = stamp or store.stamp()
    names = [f.name for f in obj.fields.values()]
    batch = []
    new_ids = []
    loaded: list[dict[str, object]] = []
    with store.lock:
        for row in rows:
            values: dict[str, object] = dict.fromkeys(names)
            for f in obj.fields.values():
                if f.default_value is not None and f.createable:
                    values[f.name] = user_id if f.default_value == "$user" else (
                        int(f.default_value) if isinstance(f.default_value, bool)
                        else f.default_value)
                elif f.type == "boolean":
                    values[f.name] = 0
            values.update(row)
            values.update(derive(obj.name, values, row, True, store._batch_now or store.clock()))
            if row.get("Id"):
                rid = str(row["Id"])
                store.claim_id(obj, rid)
            else:
                rid = store.new_id(obj)
            new_ids.append(rid)
            values.update(Id=rid, IsDeleted=0, CreatedById=user_id,
                          LastModifiedById=user_id)
            for n in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                values[n] = row.get(n) or stamp
            batch.append([values[n] for n in names])
            loaded.append(values)
        with store.transaction("load"):
            store.conn.executemany(
                f"INSERT INTO {q(obj.name)} ({', '.join(q(n) for n in names)}) "
                f"VALUES ({', '.join('?' * len(names))})", batch)
            store.history.created_many(obj, loaded)
    return new_ids
