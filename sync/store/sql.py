"""The two SQL shapes both backends need and spell alike: batched upserts and chunked ``IN``.

SQLite and PostgreSQL both have ``INSERT … ON CONFLICT … DO UPDATE``; SQLAlchemy only needs to
be told which dialect's ``insert`` to build. Rows go out as ``executemany`` in batches, so a
100k-row shadow write is a few hundred round trips, not 100k.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

T = TypeVar("T")

UPSERT_BATCH = 2_000
IN_CHUNK = 900  # under SQLite's oldest bound-parameter limit, with room for the other filters


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert ``rows``; where the ``keys`` already exist, overwrite the ``update`` columns
    (every non-key column when not given; nothing at all when empty)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table)
    else:
        stmt = sqlite.insert(table)
    columns = update if update is not None else [
        c for c in rows[0] if c not in set(keys)
    ]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    for chunk in batched(rows, UPSERT_BATCH):
        conn.execute(stmt, chunk)
