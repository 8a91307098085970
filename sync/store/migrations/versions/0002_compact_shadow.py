"""The compact shadow: packed keys, field values in a few bytes, layouts and scopes stored once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

``shadow_record`` (full canonical JSON per record, ~800 bytes a row on disk) becomes
``shadow`` (issue 14: ≤ 250 bytes per synced record). Every row is converted as it is, no
value dropped, so an upgraded store decides exactly as before; the cycle keeps less of each
record it writes from then on (a reconcile rewrites them all). The values are encoded with
``sync.store.compact``, the storage format this revision introduces (changing it needs a new
revision). Downgrading converts back; a value kept only as a digest cannot come back and is
left out (to the older code, a field never written: Salesforce's field history still tells
its pins).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from sync.store.canonical import canonical_json, decode, text_hash
from sync.store.compact import (
    Digest,
    decode_values,
    encode,
    layout_of,
    pack_key,
    unpack_key,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 5_000

_meta = sa.MetaData()
old = sa.Table(
    "shadow_record", _meta,
    sa.Column("org_id", sa.String(64), primary_key=True),
    sa.Column("object_name", sa.String(80), primary_key=True),
    sa.Column("external_id", sa.String(255), primary_key=True),
    sa.Column("record_id", sa.String(18), nullable=True),
    sa.Column("fields_json", sa.Text(), nullable=False),
    sa.Column("fields_hash", sa.String(64), nullable=False),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
)
scope = sa.Table(
    "shadow_scope", _meta,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.String(64), nullable=False),
    sa.Column("object_name", sa.String(80), nullable=False),
    sa.UniqueConstraint("org_id", "object_name", name="uq_shadow_scope_org_id_object_name"),
)
layout = sa.Table(
    "shadow_layout", _meta,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("names_json", sa.Text(), nullable=False),
)
new = sa.Table(
    "shadow", _meta,
    sa.Column("scope_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("record_key", sa.LargeBinary(), primary_key=True),
    sa.Column("record_id", sa.LargeBinary(), nullable=True),
    sa.Column("fields", sa.LargeBinary(), nullable=False),
    sqlite_with_rowid=False,
)


def _create(table: sa.Table, pk: str) -> None:
    columns = [sa.Column(c.name, c.type, nullable=c.nullable,
                         autoincrement=c.autoincrement) for c in table.columns]
    keys = [c.name for c in table.columns if c.primary_key]
    extra: list[Any] = [sa.PrimaryKeyConstraint(*keys, name=pk)]
    extra += [sa.UniqueConstraint(*(c.name for c in u.columns), name=u.name)
              for u in table.constraints if isinstance(u, sa.UniqueConstraint)]
    op.create_table(table.name, *columns, *extra, **table.kwargs)


def upgrade() -> None:
    _create(scope, "pk_shadow_scope")
    _create(layout, "pk_shadow_layout")
    _create(new, "pk_shadow")
    conn = op.get_bind()
    scopes: dict[tuple[str, str], int] = {}
    for org_id, object_name in conn.execute(
            sa.select(old.c.org_id, old.c.object_name).distinct()).all():
        conn.execute(scope.insert().values(org_id=org_id, object_name=object_name))
        scopes[(org_id, object_name)] = conn.execute(sa.select(scope.c.id).where(
            scope.c.org_id == org_id, scope.c.object_name == object_name)).scalar_one()
    layouts: dict[int, tuple[str, ...]] = {}
    rows = conn.execute(sa.select(
        old.c.org_id, old.c.object_name, old.c.external_id, old.c.record_id,
        old.c.fields_json).order_by(old.c.org_id, old.c.object_name, old.c.external_id)
        .execution_options(yield_per=BATCH))
    for batch in rows.partitions(BATCH):
        out = []
        for r in batch:
            names, data = encode(decode(r.fields_json))
            if layout_of(data) not in layouts:
                layouts[layout_of(data)] = names
                conn.execute(layout.insert().values(id=layout_of(data),
                                                    names_json=json.dumps(list(names))))
            out.append({"scope_id": scopes[(r.org_id, r.object_name)],
                        "record_key": pack_key(r.external_id),
                        "record_id": pack_key(r.record_id) if r.record_id else None,
                        "fields": data})
        conn.execute(new.insert(), out)
    op.drop_table("shadow_record")


def downgrade() -> None:
    op.create_table(
        "shadow_record",
        *[sa.Column(c.name, c.type, nullable=c.nullable) for c in old.columns],
        sa.PrimaryKeyConstraint("org_id", "object_name", "external_id", name="pk_shadow_record"),
    )
    conn = op.get_bind()
    names = {int(i): tuple(json.loads(n)) for i, n in conn.execute(
        sa.select(layout.c.id, layout.c.names_json)).all()}
    written_at = datetime.now(UTC)
    if conn.dialect.name == "sqlite":  # naive UTC there, as the store's column type keeps it
        written_at = written_at.replace(tzinfo=None)
    rows = conn.execute(
        sa.select(scope.c.org_id, scope.c.object_name, new.c.record_key, new.c.record_id,
                  new.c.fields).join(scope, scope.c.id == new.c.scope_id)
        .execution_options(yield_per=BATCH))
    for batch in rows.partitions(BATCH):
        out = []
        for r in batch:
            data = bytes(r.fields)
            fields = {k: v for k, v in decode_values(names[layout_of(data)], data).items()
                      if not isinstance(v, Digest)}
            text = canonical_json(fields)
            out.append({"org_id": r.org_id, "object_name": r.object_name,
                        "external_id": unpack_key(bytes(r.record_key)),
                        "record_id": unpack_key(bytes(r.record_id)) if r.record_id else None,
                        "fields_json": text, "fields_hash": text_hash(text),
                        "written_at": written_at})
        conn.execute(old.insert(), out)
    for table in ("shadow", "shadow_layout", "shadow_scope"):
        op.drop_table(table)
