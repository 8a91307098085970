"""Deleting a record as Salesforce does: soft delete, master-detail cascade, lookups that
restrict the delete, plain lookups cleared, and a recycle bin emptied after 15 days.

Everything a delete will touch is found and checked before the first row is written, so a
refused delete leaves nothing behind (the store runs a request's records without a savepoint
each).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from connectors.emulator.errors import RecordError, RecordFailed
from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.sqltext import q
from connectors.emulator.values import format_datetime

if TYPE_CHECKING:
    from connectors.emulator.store import OrgStore


def clear_lookups(store: OrgStore, obj: SObjectDef, record_ids: list[str], stamp: str) -> None:
    """Empty the plain lookups that pointed at deleted records, as Salesforce does; the
    children's SystemModstamp moves, so incremental readers see the change."""
    for child in store.schema.objects.values():
        for f in child.fields.values():
            if (f.type != "reference" or f.system or f.cascade_delete
                    or f.restricted_delete or obj.name not in f.reference_to):
                continue
            for start in range(0, len(record_ids), 500):
                chunk = record_ids[start:start + 500]
                store.conn.execute(
                    f"UPDATE {q(child.name)} SET {q(f.name)} = NULL, SystemModstamp = ? "
                    f"WHERE {q(f.name)} IN ({','.join('?' * len(chunk))}) "
                    f"AND IsDeleted = 0", [stamp, *chunk])


def children(store: OrgStore, child: SObjectDef, f: FieldDef, parent_ids: list[str],
             columns: str = "Id") -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for start in range(0, len(parent_ids), 500):
        chunk = parent_ids[start:start + 500]
        out += store.conn.execute(
            f"SELECT {columns} FROM {q(child.name)} WHERE {q(f.name)} IN "
            f"({','.join('?' * len(chunk))}) AND IsDeleted = 0", chunk).fetchall()
    return out


def cascade(store: OrgStore, obj: SObjectDef,
            record_ids: list[str]) -> list[tuple[SObjectDef, list[str]]]:
    """What a delete removes: these records and, recursively, their master-detail
    children (all found before anything is written)."""
    doomed = [(obj, record_ids)]
    for child in store.schema.objects.values():
        for f in child.fields.values():
            if f.cascade_delete and obj.name in f.reference_to:
                kids = [str(r[0]) for r in children(store, child, f, record_ids)]
                if kids:
                    doomed += cascade(store, child, kids)
    return doomed


def check_restricted(store: OrgStore, doomed: list[tuple[SObjectDef, list[str]]],
                     row: dict[str, object]) -> None:
    """Refuse a delete while a lookup that restricts deletes still points at a record."""
    leaving = {rid for _, record_ids in doomed for rid in record_ids}
    for obj, record_ids in doomed:
        for child in store.schema.objects.values():
            for f in child.fields.values():
                if not (f.restricted_delete and obj.name in f.reference_to):
                    continue
                columns = "Id, Name" if "Name" in child.fields else "Id, Id"
                blockers = [r for r in children(store, child, f, record_ids, columns)
                            if r[0] not in leaving]
                if blockers:
                    names = ", ".join(str(r[1]) for r in blockers[:5])
                    raise RecordFailed(RecordError(
                        "DELETE_FAILED",
                        f"Your attempt to delete {row.get('Name') or row['Id']} could not "
                        "be completed because it is associated with the following "
                        f"{(child.label_plural or child.name).lower()}.: {names}"))


RECYCLE_BIN_DAYS = timedelta(days=15)


def empty_recycle_bin(store: OrgStore, obj: SObjectDef) -> int:
    """Remove for good the rows of ``obj`` deleted more than 15 days ago (by the store's
    clock), as Salesforce empties its recycle bin: from then on not even ``queryAll`` sees
    them. A deleted row's ``SystemModstamp`` is its deletion time; a history row, which has
    none, goes with the record it records (its own ``CreatedDate`` bounds it)."""
    horizon = format_datetime(store.clock() - RECYCLE_BIN_DAYS)
    stamp = "SystemModstamp" if "SystemModstamp" in obj.fields else "CreatedDate"
    with store.lock:
        return store.conn.execute(
            f"DELETE FROM {q(obj.name)} WHERE IsDeleted = 1 AND {stamp} < ?",
            (horizon,)).rowcount
