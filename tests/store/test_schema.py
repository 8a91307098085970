"""The versioned schema: migrations build exactly the tables the code declares, and a store
refuses a database whose revision is not the code's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from sync.store import SchemaOutOfDateError, Store, Watermark, upgrade_database
from sync.store.engine import create_store_engine
from sync.store.migrate import current_revision, head_revision, upgrade
from sync.store.models import store_metadata

ORG = "00D000000000001AAA"


def test_migrations_create_exactly_the_declared_tables(empty_database_url: str) -> None:
    engine = create_store_engine(empty_database_url)
    try:
        assert upgrade(engine) == head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, store_metadata) == []
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert tables == {t.name for t in store_metadata.sorted_tables} | {"alembic_version"}


def test_upgrading_twice_is_harmless(empty_database_url: str) -> None:
    engine = create_store_engine(empty_database_url)
    try:
        assert upgrade(engine) == upgrade(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_schema_is_versioned_from_the_first_revision() -> None:
    assert head_revision() == "0002"  # 0002: the compact shadow


def test_a_sqlite_store_upgrades_itself_on_open(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
    with Store.open(url) as store:
        assert store.revision() == head_revision()
        with store.transaction() as tx:
            tx.set_watermark(ORG, "Opportunity", Watermark(datetime(2026, 3, 1, tzinfo=UTC)))


def test_a_postgresql_store_behind_the_code_says_to_run_db_upgrade(postgres_server) -> None:
    url = postgres_server.create_database()
    with pytest.raises(SchemaOutOfDateError, match="run mapsync db upgrade") as caught:
        Store.open(url)
    assert caught.value.current is None
    assert caught.value.expected == head_revision()
    assert postgres_server.password not in str(caught.value)


def test_a_sqlite_store_can_be_told_not_to_upgrade(tmp_path) -> None:
    with pytest.raises(SchemaOutOfDateError, match=r"revision none .* run mapsync db upgrade"):
        Store.open(f"sqlite:///{tmp_path / 'fresh.db'}", auto_upgrade=False)


def test_a_database_from_a_newer_mapsync_is_refused(fresh_database_url: str) -> None:
    engine = create_store_engine(fresh_database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDateError, match="newer than this mapsync"):
        Store.open(fresh_database_url)
    engine = create_store_engine(fresh_database_url)
    assert current_revision(engine) == "9999"  # never "upgraded" backwards
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'wal.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000


def test_releases_upgrading_the_same_database_at_once_migrate_it_once(
    empty_database_url: str,
) -> None:
    start = threading.Barrier(4)
    outcomes: list[object] = []

    def release() -> None:
        start.wait()
        try:
            outcomes.append(upgrade_database(empty_database_url)[1])
        except Exception as err:  # collected, asserted below
            outcomes.append(err)

    threads = [threading.Thread(target=release, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "concurrent upgrades blocked each other"
    assert outcomes == [head_revision()] * 4
