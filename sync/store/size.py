"""How many bytes each of the store's tables takes on disk, indexes included.

The store grows with every record mapsync writes (a plan, its milestones, the Opportunity's
rollup), so its size per synced record is a promise to whoever runs it (≤ 250 bytes, checked
by ``tests/store/test_store_size.py``); this is where the figure comes from. SQLite: the
pages of each table and its indexes (``dbstat``, free space inside pages included: that is
what the file costs); PostgreSQL: ``pg_total_relation_size`` (heap, indexes, TOAST).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from sync.store.models import shadow_table, store_metadata


def table_sizes(conn: Connection) -> dict[str, int]:
    """Bytes on disk of each store table, its indexes included, by table name."""
    names = [t.name for t in store_metadata.sorted_tables]
    if conn.dialect.name == "postgresql":
        return {name: int(conn.exec_driver_sql(
            "SELECT pg_total_relation_size(%(t)s::regclass)", {"t": name}).scalar_one())
            for name in names}
    rows = conn.exec_driver_sql(
        "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat AS d "
        "LEFT JOIN sqlite_schema AS m ON m.name = d.name GROUP BY 1").all()
    by_table = {str(name): int(size) for name, size in rows}
    return {name: by_table.get(name, 0) for name in names}


def shadow_records(conn: Connection) -> int:
    """How many records the shadow keeps (every org's): the synced records the size is for."""
    return int(conn.execute(select(func.count()).select_from(shadow_table)).scalar_one())
