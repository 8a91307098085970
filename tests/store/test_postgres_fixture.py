"""The PostgreSQL test server fails the run loudly when it cannot start, never skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_missing_server_binaries_fail_the_tests_instead_of_skipping_them(tmp_path: Path) -> None:
    (tmp_path / "test_needs_pg.py").write_text(
        "def test_needs_pg(postgres_server):\n    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "MAPSYNC_PG_BIN": str(tmp_path / "nowhere")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.fixtures.postgres",
         "-p", "no:cacheprovider", "test_needs_pg.py"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )
    assert done.returncode != 0
    assert "PostgreSQL 15 server binaries not found" in done.stdout
    assert "skipped" not in done.stdout
