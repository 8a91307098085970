"""The ``DATABASE_URL`` password never appears in errors, reprs or logs."""

from __future__ import annotations

import logging

import pytest

from sync.store import DatabaseUnavailableError, Store
from sync.store.engine import scrub, sqlalchemy_url

SECRET = "Wr0ng-Pa55-7f3a"


def test_a_refused_password_is_reported_without_the_password(
    postgres_server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{postgres_server.port}/postgres"
    with pytest.raises(DatabaseUnavailableError) as caught:
        Store.open(url)
    message = str(caught.value)
    assert message.startswith("cannot use the database postgresql://postgres:***@127.0.0.1:")
    assert "password authentication failed" in message
    assert SECRET not in message
    assert SECRET not in repr(caught.value.__cause__)
    assert caught.value.__suppress_context__
    assert SECRET not in caplog.text


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailableError) as caught:
        Store.open(f"postgres://mapsync:{SECRET}@127.0.0.1:9/mapsync")
    assert SECRET not in str(caught.value)
    assert "postgres://mapsync:***@127.0.0.1:9/mapsync" in str(caught.value)


def test_an_open_store_shows_its_url_masked(postgres_store: Store, postgres_server) -> None:
    assert postgres_server.password not in repr(postgres_store)
    assert ":***@" in repr(postgres_store)


def test_scrub_removes_the_password_from_any_text() -> None:
    url = f"postgresql://app:{SECRET}@db.internal/mapsync"
    assert scrub(f"failed for app:{SECRET} at db.internal", url) == \
        "failed for app:*** at db.internal"


def test_heroku_style_postgres_urls_are_driven_by_psycopg3() -> None:
    assert sqlalchemy_url("postgres://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert sqlalchemy_url("postgresql://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert sqlalchemy_url("sqlite:///mapsync.db") == "sqlite:///mapsync.db"


def test_an_unsupported_database_url_is_a_configuration_error_without_the_password() -> None:
    from config.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        Store.open(f"mysql://root:{SECRET}@localhost/db")
    assert SECRET not in str(caught.value)
