"""The two SQL shapes both backends need and spell alike: batched upserts and chunked ``IN``.

SQLite and PostgreSQL both have ``INSERT … ON CONFLICT … DO UPDATE``; SQLAlchemy only needs to
be told which dialect's ``insert`` to build. Rows go out as ``executemany`` in batches, so a
100k-row shadow write is a few hundred round trips, not 100k.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import LargeBinary, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from config.batching import batched

T = TypeVar("T")

UPSERT_BATCH = 2_000
COPY_THRESHOLD = 1_000
IN_CHUNK = 900  # under SQLite's oldest bound-parameter limit, with room for the other filters


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    keep_when_null: Sequence[str] = (),
) -> None:
    """Insert ``rows``; where the ``keys`` already exist, overwrite the ``update`` columns
    (every non-key column when not given; nothing at all when empty). For the columns in
    ``keep_when_null`` a new NULL means "unknown" and keeps the stored value.

    Every row must have the same columns. The statement is compiled once and the rows go
    straight to the driver's ``executemany``: SQLAlchemy's per-row parameter processing
    would otherwise cost more than the database's work on a 100k-row write.
    """
    if not rows:
        return
    names = list(rows[0])
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table)
    else:
        stmt = sqlite.insert(table)
    columns = update if update is not None else [c for c in names if c not in set(keys)]
    if columns:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={
            c: func.coalesce(stmt.excluded[c], table.c[c]) if c in keep_when_null
            else stmt.excluded[c]
            for c in columns
        })
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_then_upsert(conn, table, rows, names, keys, columns, keep_when_null)
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    order = compiled.positiontup if compiled.positional else None
    convert = _converters(conn, table, names)
    sql = str(compiled)
    for chunk in batched(rows, UPSERT_BATCH):
        if order is not None:  # each row's values straight into the statement's order
            params: list[Any] = [tuple(convert[n](row[n]) if n in convert else row[n]
                                       for n in order) for row in chunk]
        else:
            params = [{n: convert[n](row[n]) if n in convert else row[n] for n in names}
                      for row in chunk]
        conn.exec_driver_sql(sql, params)


def _copy_then_upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], names: Sequence[str],
    keys: Sequence[str], columns: Sequence[str], keep_when_null: Sequence[str],
) -> None:
    """PostgreSQL, many rows: ``COPY`` into a temporary table, then one ``INSERT … SELECT …
    ON CONFLICT``. Several times faster than ``executemany`` on 100k rows."""
    # One statement may not touch a row twice: fold repeats the way consecutive writes
    # would land (the last wins, except that its NULLs in keep_when_null columns keep).
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        earlier = latest.get(key)
        if earlier is not None and keep_when_null:
            row = {**row, **{c: earlier[c] for c in keep_when_null if row[c] is None}}
        latest[key] = row
    staging = f"mapsync_staging_{table.name}"
    cols = ", ".join(f'"{n}"' for n in names)
    conflict = ", ".join(f'"{k}"' for k in keys)
    def new_value(c: str) -> str:
        if c in keep_when_null:
            return f'COALESCE(EXCLUDED."{c}", "{table.name}"."{c}")'
        return f'EXCLUDED."{c}"'

    action = (
        "DO UPDATE SET " + ", ".join(f'"{c}" = {new_value(c)}' for c in columns)
        if columns else "DO NOTHING"
    )
    conn.exec_driver_sql(
        f'CREATE TEMPORARY TABLE IF NOT EXISTS "{staging}" '
        f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
    )
    conn.exec_driver_sql(f'TRUNCATE "{staging}"')
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f'COPY "{staging}" ({cols}) FROM STDIN') as copy:
        for row in latest.values():
            copy.write_row([row[n] for n in names])
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{staging}" '
        f"ON CONFLICT ({conflict}) {action}"
    )


def _converters(conn: Connection, table: Table, names: Sequence[str]) -> dict[str, Any]:
    """Each column's bind conversion (e.g. UTC timestamps), memoised: bulk rows repeat them."""
    out: dict[str, Any] = {}
    for name in names:
        if isinstance(table.c[name].type, LargeBinary):
            continue  # bytes go to both drivers as they are; memoising unique blobs costs
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is None:
            continue
        cache: dict[Any, Any] = {}

        def convert(value: Any, process: Any = process, cache: dict[Any, Any] = cache) -> Any:
            if value not in cache:
                cache[value] = process(value)
            return cache[value]

        out[name] = convert
    return out
