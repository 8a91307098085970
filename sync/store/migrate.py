"""The schema's version, and the migrations that move a database to the code's revision.

Alembic is configured in code (no ``alembic.ini``, no reliance on the working directory): the
migration scripts ship inside the package, ``sync/store/migrations``. ``mapsync db upgrade``
(the Procfile's release step) calls :func:`upgrade`. On PostgreSQL the upgrade holds an
advisory lock so two releases starting at once migrate one after the other; on SQLite the
migration runs under ``BEGIN IMMEDIATE``, which serialises it the same way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any constant works: it only has to be the same for every mapsync process.
UPGRADE_LOCK_KEY = 0x6D617073796E63

__all__ = ["current_revision", "head_revision", "upgrade"]


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the shipped migrations (and a connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this code needs (the newest migration shipped)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def known_revisions() -> set[str]:
    """Every revision this code ships, oldest to newest."""
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply every migration up to ``revision``; return the revision reached."""
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK_KEY})
        command.upgrade(alembic_config(conn), revision)
    return current_revision(engine)
