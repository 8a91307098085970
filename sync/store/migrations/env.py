"""Alembic environment for the store: runs on the connection mapsync hands it, never a URL.

``sync.store.migrate`` opens the connection (and the transaction, with its lock), so this
file only binds Alembic to it. Offline (SQL script) mode is not supported: migrations run
against a live database, from ``mapsync db upgrade``.
"""

from __future__ import annotations

from alembic import context

from sync.store.models import store_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the store's migrations run through sync.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=store_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
