"""``mapsync db upgrade`` / ``mapsync db current``: the release step and its check; ``mapsync
db size``: what the store takes on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sync.cli.db_cmd  # noqa: F401  (registers the db group)
from sync.cli.app import app
from sync.store import ShadowWrite, Store, head_revision

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)  # no stray .env

    def invoke(url: str, *args: str):
        return CliRunner().invoke(app, ["db", *args], env={"DATABASE_URL": url})

    return invoke


def test_db_upgrade_migrates_an_empty_database_and_prints_the_revision(
    run, empty_database_url: str
) -> None:
    result = run(empty_database_url, "upgrade")
    assert result.exit_code == 0, result.output
    assert f"upgraded from empty to revision {head_revision()} (head)" in result.output
    again = run(empty_database_url, "upgrade")
    assert f"already at revision {head_revision()} (head)" in again.output


def test_db_current_fails_until_the_database_is_upgraded(run, empty_database_url: str) -> None:
    behind = run(empty_database_url, "current")
    assert behind.exit_code == 1
    assert "is at revision none" in behind.output
    assert "run mapsync db upgrade" in behind.output
    run(empty_database_url, "upgrade")
    at_head = run(empty_database_url, "current")
    assert at_head.exit_code == 0
    assert f"at revision {head_revision()} (head)" in at_head.output


def test_db_upgrade_reports_an_unreachable_database_in_one_line_without_its_password(
    run, postgres_server
) -> None:
    url = f"postgresql://mapsync:N0t-This-One@127.0.0.1:{postgres_server.port}/nowhere"
    result = run(url, "upgrade")
    assert result.exit_code == 1
    assert result.output.startswith("mapsync: cannot use the database postgresql://mapsync:***@")
    assert "N0t-This-One" not in result.output
    assert "Traceback" not in result.output


def test_the_release_step_runs_as_a_real_command(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'release.db'}",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", "from sync.cli import main; main()", "db", "upgrade"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"to revision {head_revision()} (head)" in done.stdout


def test_db_size_reports_the_store_on_disk_per_table_and_per_synced_record(
    run, database_url: str
) -> None:
    with Store.open(database_url) as store, store.transaction() as tx:
        tx.put_shadows("00D000000000001AAA", "MAP_Milestone__c", [
            ShadowWrite(f"006{i:015d}:kickoff", None, {"Status__c": "Done"})
            for i in range(2000)])
    result = run(database_url, "size")
    assert result.exit_code == 0, result.output
    first, *tables = result.output.splitlines()
    assert "2000 synced records" in first
    assert "(target 250)" in first
    per_record = int(first.split(" bytes per record")[0].rsplit(" ", 1)[1])
    assert per_record > 0  # an empty store's pages weigh on 2,000 records (the bound:
    # tests/store/test_store_size.py, after a real cycle)
    assert tables[0].split()[0] == "shadow"  # the largest table comes first
    assert "s3cret" not in result.output
