"""Fixtures for the store's tests: every test runs on SQLite and on a real PostgreSQL 15.

Each test starts from an empty, migrated database without paying for migrations: on SQLite a
copy of a file migrated once per session, on PostgreSQL the session's migrated database with
every table truncated (~0.05 s, where ``CREATE DATABASE`` takes ~0.3 s). Databases are not
dropped: the whole server directory goes at the end of the session.
The store's clock is a :class:`ManualClock` the test moves by hand.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.store import Store
from sync.store.engine import create_store_engine
from sync.store.migrate import upgrade
from sync.store.models import store_metadata
from tests.fixtures.postgres import PostgresServer

BACKENDS = ["sqlite", "postgresql"]


@dataclass
class ManualClock:
    """A clock that only moves when told to."""

    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: PostgresServer) -> str:
    """The URL of a PostgreSQL database at the code's revision, shared by the session."""
    url = postgres_server.create_database()
    engine = create_store_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the code's revision, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "mapsync.db"
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name("mapsync.db-wal").exists()
    return path


def _truncate(url: str) -> None:
    engine = create_store_engine(url)
    tables = ", ".join(t.name for t in store_metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY")
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database on the parametrised backend.

    SQLite: a fresh copy of a migrated file. PostgreSQL: the session's migrated database with
    every store table truncated (tests that change the schema itself use
    ``fresh_database_url``).
    """
    if request.param == "sqlite":
        path = tmp_path / "mapsync.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_postgres")
    _truncate(url)
    return url


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated database of its own, for tests that alter the schema."""
    if request.param == "sqlite":
        path = tmp_path / "mapsync.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    engine = create_store_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database with no schema at all, on the parametrised backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield server.create_database()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(database_url: str, clock: ManualClock) -> Iterator[Store]:
    """An open store on a fresh database, on the parametrised backend, with a manual clock."""
    opened = Store.open(database_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def postgres_store(migrated_postgres: str, clock: ManualClock) -> Iterator[Store]:
    """An open store on an emptied PostgreSQL database (for PostgreSQL-only behaviour)."""
    _truncate(migrated_postgres)
    opened = Store.open(migrated_postgres, clock=clock)
    yield opened
    opened.close()
