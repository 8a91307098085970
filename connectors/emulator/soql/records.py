"""Result rows → Salesforce JSON records and ``columnMetadata``.

A query result is a tree: the record, then one nested record per parent relationship
(``"Account": {"attributes": ..., "Name": ...}`` or ``null`` when the lookup is empty). The plan
for building that tree from a flat SQL row is computed once per query, so shaping a row is a
few dictionary writes and per-type conversions (0/1 → false/true, REAL → number).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors.emulator.schema import FieldDef, SObjectDef

Converter = Callable[[Any], Any] | None

_CONVERTERS: dict[str, Converter] = {
    "boolean": bool, "int": int, "long": int, "double": float, "currency": float, "percent": float,
    "anytype": orjson.loads,  # a history row's OldValue/NewValue, stored as JSON text
}
_APEX_TYPES = {
    "id": "Id", "reference": "Id", "boolean": "Boolean", "int": "Integer", "long": "Long",
    "double": "Double", "currency": "Decimal", "percent": "Double", "date": "Date",
    "datetime": "Datetime", "anytype": "Object",
}


@dataclass
class RecordPlan:
    """How to build one (possibly nested) record from a SQL row."""

    sobject: str
    id_index: int
    url_prefix: str
    entries: list[tuple[str, int, Converter, RecordPlan | None]] = field(default_factory=list)
    # (key, row index, converter, nested plan); a nested entry reads its Id at ``row index``

    def build(self, row: Sequence[Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {"type": self.sobject, "url": self.url_prefix + row[self.id_index]}
        }
        for key, index, convert, nested in self.entries:
            value = row[index]
            if nested is not None:
                record[key] = None if value is None else nested.build(row)
            elif convert is None or value is None:
                record[key] = value
            elif convert is BLOB:  # a blob is answered as the URL of its bytes
                record[key] = f"{self.url_prefix}{row[self.id_index]}/{key}"
            else:
                record[key] = convert(value)
        return record


def BLOB(value: Any) -> Any:
    """The converter of base64 fields: ``RecordPlan.build`` answers their URL instead."""
    return value


def converter(f: FieldDef) -> Converter:
    return BLOB if f.type == "base64" else _CONVERTERS.get(f.type)


def url_prefix(api_version: str, sobject: SObjectDef) -> str:
    return f"/services/data/v{api_version}/sobjects/{sobject.name}/"


def column_metadata(f: FieldDef, display: str) -> dict[str, Any]:
    """One ``columnMetadata`` entry for a plain field, as ``?columns=true`` answers it."""
    return {
        "aggregate": False,
        "apexType": _APEX_TYPES.get(f.type, "String"),
        "booleanType": f.type == "boolean",
        "columnName": f.name,
        "custom": f.custom,
        "displayName": display,
        "foreignKeyName": None,
        "insertable": f.createable and not f.system,
        "joinColumns": [],
        "numberType": f.type in ("int", "long", "double", "currency", "percent"),
        "textType": _APEX_TYPES.get(f.type, "String") == "String",
        "updatable": f.updateable and not f.system,
    }


def relationship_metadata(relationship: str, sobject: SObjectDef, custom: bool,
                          joins: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``columnMetadata`` entry of a parent relationship, its fields in ``joinColumns``."""
    return {
        "aggregate": False, "apexType": sobject.name, "booleanType": False,
        "columnName": relationship, "custom": custom, "displayName": relationship,
        "foreignKeyName": None, "insertable": False, "joinColumns": joins,
        "numberType": False, "textType": False, "updatable": False,
    }


def count_metadata() -> list[dict[str, Any]]:
    """``columnMetadata`` of ``SELECT COUNT()``: one aggregate integer column."""
    return [{
        "aggregate": True, "apexType": "Integer", "booleanType": False, "columnName": "expr0",
        "custom": False, "displayName": "COUNT()", "foreignKeyName": None, "insertable": False,
        "joinColumns": [], "numberType": True, "textType": False, "updatable": False,
    }]
