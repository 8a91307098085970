"""From ``DATABASE_URL`` to a SQLAlchemy engine tuned for the store, on SQLite or PostgreSQL.

Admins write the URLs their platform hands out (``postgres://`` on Heroku-style platforms,
``postgresql://``) and mapsync drives them with psycopg 3, so the scheme is translated here,
once. SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, and
every write transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, so
two processes never both read and then fail to upgrade to writing. The password never leaves
this module unmasked: errors and ``repr`` use :func:`mask_url`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from config.errors import ConfigurationError
from config.settings import database_url_problems, mask_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10  # libpq waits forever by default; a URL may set its own
BEGIN_MODE = "mapsync_sqlite_begin"

__all__ = ["BEGIN_MODE", "create_store_engine", "mask_url", "scrub", "sqlalchemy_url"]


def sqlalchemy_url(database_url: str) -> str:
    """``DATABASE_URL`` as SQLAlchemy reads it (psycopg 3 for PostgreSQL)."""
    scheme, sep, rest = database_url.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if sep and base in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    if sep and base == "sqlite":
        return f"sqlite://{rest}"
    raise ConfigurationError(
        "DATABASE_URL must be sqlite:///PATH or postgresql://... "
        f"(got {mask_url(database_url)!r})"
    )


def scrub(text: str, database_url: str) -> str:
    """``text`` with the URL's password (if any) replaced by ``***``."""
    try:
        password = make_url(sqlalchemy_url(database_url)).password
    except (ArgumentError, ConfigurationError, ValueError):
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text


def create_store_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for ``database_url``; SQLite gets WAL, a busy timeout and explicit BEGINs."""
    problems = database_url_problems(database_url)
    if problems:
        raise ConfigurationError("invalid configuration: " + "; ".join(problems),
                                 problems=problems)
    url = sqlalchemy_url(database_url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigurationError(
            f"DATABASE_URL is not a valid URL: {mask_url(database_url)!r}"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, echo)
    connect_args = {} if "connect_timeout" in parsed.query else {
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True,
                         connect_args=connect_args)


def _sqlite_engine(url: str, path: str | None, echo: bool) -> Engine:
    in_memory = not path or path == ":memory:" or path.startswith("file::memory:")
    if not in_memory and path is not None:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if not in_memory:
        # Each checkout opens the file afresh: cheap, and nothing lingers after a fork.
        kwargs["poolclass"] = NullPool
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Leave transaction control to the "begin" hook below (pysqlite's own is too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
