"""A store file that is not a database, or that another process keeps locked, is one line.

Every command that opens the store says so in one line on stderr and exits 1: no traceback,
whatever the file holds (random bytes, half of a real store, a text file), and within the busy
timeout when another process holds the lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sync.cli.commands  # noqa: F401  (registers the command groups)
from sync.cli.app import app
from sync.store import NotAStoreError, Store
from sync.store import engine as store_engine

# Settings a command accepts; nothing listens at the login URL, and the store fails first.
SALESFORCE = {"SF_LOGIN_URL": "https://127.0.0.1:9", "SF_CLIENT_ID": "mapsync-test",
              "SF_CLIENT_SECRET": "not-a-secret", "LOG_FORMAT": "json"}
COMMANDS = [["status", "--no-api"], ["db", "upgrade"], ["sync", "--once"]]


def not_a_database(kind: str, migrated_sqlite: Path, path: Path) -> str:
    """Write a file of ``kind`` at ``path``; return the reason SQLite gives for it."""
    if kind == "random bytes":
        path.write_bytes(os.urandom(8192))
        return "file is not a database"
    if kind == "a text file":
        path.write_text("DATABASE_URL=sqlite:///mapsync.db\n")
        return "file is not a database"
    data = migrated_sqlite.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut short
    return "database disk image is malformed"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in list(os.environ):
        if name.startswith(("SF_", "MAPSYNC_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    return dict(SALESFORCE)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("kind", ["random bytes", "a truncated store", "a text file"])
def test_a_file_that_is_not_a_store_is_one_line_from_every_command(
    kind: str, command: list[str], env: dict[str, str], migrated_sqlite: Path, tmp_path: Path
) -> None:
    path = tmp_path / "mapsync.db"
    reason = not_a_database(kind, migrated_sqlite, path)
    before = path.read_bytes()
    result = CliRunner().invoke(app, command, env={**env, "DATABASE_URL": f"sqlite:///{path}"})
    assert result.stderr.splitlines() == [
        f"mapsync: the store at {path} is not a mapsync database: {reason}"
    ]
    assert result.exit_code == 1
    assert path.read_bytes() == before  # nothing was written into it


def test_the_installed_command_says_it_in_one_line_too(tmp_path: Path) -> None:
    path = tmp_path / "mapsync.db"
    path.write_bytes(os.urandom(4096))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "MAPSYNC_"))}
    done = subprocess.run(
        [sys.executable, "-c", "from sync.cli import main; main()", "status", "--no-api"],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
        env={**environ, **SALESFORCE, "DATABASE_URL": f"sqlite:///{path}"},
    )
    assert done.stderr.splitlines() == [
        f"mapsync: the store at {path} is not a mapsync database: file is not a database"
    ]
    assert done.returncode == 1


def test_opening_a_damaged_store_raises_the_product_error(
    migrated_sqlite: Path, tmp_path: Path
) -> None:
    path = tmp_path / "cut.db"
    not_a_database("a truncated store", migrated_sqlite, path)
    with pytest.raises(NotAStoreError, match="is not a mapsync database"):
        Store.open(f"sqlite:///{path}")


@pytest.fixture
def locked_store(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Path]:
    """A migrated store that another process holds an exclusive lock on."""
    path = tmp_path / "locked.db"
    shutil.copy(migrated_sqlite, path)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA locking_mode = EXCLUSIVE')\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"  # until the test closes stdin
        ), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    try:
        yield path
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_store_locked_by_another_process_is_one_line_after_the_busy_timeout(
    command: list[str], env: dict[str, str], locked_store: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    result = CliRunner().invoke(app, command,
                                env={**env, "DATABASE_URL": f"sqlite:///{locked_store}"})
    assert result.stderr.splitlines() == [
        f"mapsync: the store at {locked_store} is locked by another process: gave up after "
        "0.3 s (database is locked)"
    ]
    assert result.exit_code == 1
