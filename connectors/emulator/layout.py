"""The SQLite layout of an org: a table per object, a column per field, the indexes reads use."""

from __future__ import annotations

import sqlite3

from connectors.emulator.schema import Schema, SObjectDef
from connectors.emulator.sqltext import q

SQL_TYPES = {"double": "REAL", "currency": "REAL", "percent": "REAL", "int": "INTEGER",
             "long": "INTEGER", "boolean": "INTEGER", "base64": "BLOB"}


def create_tables(conn: sqlite3.Connection, schema: Schema) -> None:
    """Create missing tables, columns and indexes (existing data is kept)."""
    for obj in schema.objects.values():
        cols = [f"{q(f.name)} {SQL_TYPES.get(f.type, 'TEXT')}"
                + (" PRIMARY KEY" if f.name == "Id" else "")
                for f in obj.fields.values()]
        conn.execute(f"CREATE TABLE IF NOT EXISTS {q(obj.name)} ({', '.join(cols)})")
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({q(obj.name)})")}
        for f in obj.fields.values():
            if f.name not in have:
                conn.execute(f"ALTER TABLE {q(obj.name)} ADD COLUMN {q(f.name)} "
                             f"{SQL_TYPES.get(f.type, 'TEXT')}")
        # incremental reads filter and page on (SystemModstamp, Id); history rows are read
        # by CreatedDate
        stamp_field = "SystemModstamp" if "SystemModstamp" in obj.fields else "CreatedDate"
        _index(conn, obj, f"{stamp_field}_Id", f"{stamp_field}, Id")
        for f in obj.fields.values():
            if f.unique or f.external_id:
                _index(conn, obj, f.name, f"{q(f.name)} COLLATE NOCASE")
            elif f.type == "reference" and (not f.system or (
                    obj.read_only and f.name != "CreatedById")):  # history's parent
                _index(conn, obj, f.name, q(f.name))


def _index(conn: sqlite3.Connection, obj: SObjectDef, fname: str, expr: str) -> None:
    name = q(f"ix_{obj.name}_{fname}")
    conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {q(obj.name)} ({expr})")
