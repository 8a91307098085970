"""The checks a record passes before it is written: known and writable fields, typed
values, parents named by external id, lookups that exist, unique values.

Each raises ``RecordFailed`` with Salesforce's code before anything is written, which is
what lets the store fail one record of a request alone without a savepoint per record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.emulator import ids
from connectors.emulator.errors import RecordError, RecordFailed
from connectors.emulator.schema import FieldDef, SObjectDef
from connectors.emulator.sqltext import q
from connectors.emulator.values import to_storage

if TYPE_CHECKING:
    from connectors.emulator.store import OrgStore


def refuse_read_only(obj: SObjectDef, verb: str) -> None:
    """History objects are written by the server only; clients are refused as by Salesforce."""
    if obj.read_only:
        raise RecordFailed(RecordError(
            "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj.label}"))


def live_row(store: OrgStore, obj: SObjectDef, record_id: str) -> dict[str, object]:
    """The stored row an update targets: a well-formed Id of this object, present, not deleted."""
    norm = ids.normalize(record_id)
    if norm is None or norm[:3] != obj.key_prefix:
        raise RecordFailed(RecordError(
            "MALFORMED_ID", f"{obj.label or obj.name} ID: id value of incorrect type: "
            f"{record_id}", ["Id"]))
    row = store.find(obj, norm)
    if row is None:
        raise RecordFailed(RecordError("NOT_FOUND", "The requested resource does not exist"))
    if row["IsDeleted"]:
        raise RecordFailed(RecordError("ENTITY_IS_DELETED", "entity is deleted"))
    return row


def prepare(store: OrgStore, obj: SObjectDef, body: dict[str, object],
            creating: bool, current: dict[str, object] | None = None) -> dict[str, object]:
    """Body fields as stored values; on update (``current`` given) a field that may not
    be updated is accepted only when its value is unchanged, as in an upsert that
    repeats a master-detail parent."""
    values: dict[str, object] = {}
    errors: list[RecordError] = []
    locked: list[str] = []
    for key, value in body.items():
        if key == "attributes":
            continue
        f = obj.field(key)
        stored: object
        try:
            if f is None:
                f = obj.relationship(key)
                if f is None or not isinstance(value, dict):
                    raise RecordFailed(RecordError(
                        "INVALID_FIELD",
                        f"No such column '{key}' on sobject of type {obj.name}", [key]))
                stored = foreign_key(store, f, value)
            else:
                stored = to_storage(f, value)
        except RecordFailed as failed:
            errors.extend(failed.errors)
            continue
        if not (f.createable if creating else f.updateable):
            if current is None or current.get(f.name) != stored:
                locked.append(f.name)
            continue
        values[f.name] = stored
    if locked:
        raise RecordFailed(RecordError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(locked)}. Please check the "
            "security settings of this field and verify that it is read/write for your "
            "profile or permission set.", locked))
    if errors:
        raise RecordFailed(*errors)
    return values


def foreign_key(store: OrgStore, f: FieldDef, ref: dict[str, object]) -> str:
    """The Id named by ``{"External_Id__c": value}`` in a relationship field."""
    attrs = ref.get("attributes")
    type_name = attrs.get("type") if isinstance(attrs, dict) else f.reference_to[0]
    target = store.schema.get(str(type_name))
    keys = [k for k in ref if k != "attributes"]
    if target is None or len(keys) != 1:
        raise RecordFailed(RecordError(
            "INVALID_FIELD", f"{f.relationship_name}: a foreign key reference names "
            "exactly one external id field", [f.name]))
    ext = target.field(keys[0])
    if ext is None or not (ext.external_id or ext.id_lookup or ext.name == "Id"):
        raise RecordFailed(RecordError(
            "INVALID_FIELD", f"Field name provided, {keys[0]} is not an External ID or "
            f"indexed field for {target.name}", [f.name]))
    value = ref[keys[0]]
    matches = store.ids_by_value(target, ext, to_storage(ext, value))
    if len(matches) != 1:
        problem = "not found" if not matches else "matched more than one record"
        raise RecordFailed(RecordError(
            "INVALID_FIELD", f"Foreign key external ID: {value} {problem} for field "
            f"{ext.name} in entity {target.name}", [f.name]))
    return matches[0]


def check_references(store: OrgStore, obj: SObjectDef, values: dict[str, object]) -> None:
    """Every lookup names an existing, live record of an object it may point at."""
    for name, value in values.items():
        f = obj.fields[name]
        if f.type != "reference" or value is None:
            continue
        value = str(value)
        if value in store.live_refs:
            continue
        targets = [t for t in (store.schema.get(n) for n in f.reference_to) if t is not None]
        target = next((t for t in targets if t.key_prefix == value[:3]), None)
        if target is None:
            raise RecordFailed(RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"field integrity exception: unknown ({f.label or f.name}: id value of "
                f"incorrect type: {value})", [f.name]))
        row = store.conn.execute(f"SELECT IsDeleted FROM {q(target.name)} WHERE Id = ?",
                                (value,)).fetchone()
        if row is None:
            raise RecordFailed(RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name]))
        if row[0]:
            raise RecordFailed(RecordError("ENTITY_IS_DELETED", "entity is deleted",
                                           [f.name]))
        if store.in_batch:
            store.live_refs.add(value)


def check_unique(store: OrgStore, obj: SObjectDef, values: dict[str, object], own_id: str,
                 skip: str | None = None) -> None:
    """No other live record holds a unique field's value (``skip``: already checked)."""
    for name, value in values.items():
        f = obj.fields[name]
        if not f.unique or value is None or name == skip:
            continue
        others = [i for i in store.ids_by_value(obj, f, value) if i != own_id]
        if others:
            raise RecordFailed(RecordError(
                "DUPLICATE_VALUE", f"duplicate value found: {f.name} duplicates value on "
                f"record with id: {others[0]}", [f.name]))
