"""``mapsync share`` as an admin runs it: a File per plan, HTML and PDF to a folder, one
clear line for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from tests.operations.ops import Ops


@pytest.fixture
def ops(emulator: Emulator, tmp_path: Path) -> Iterator[Ops]:
    bench = Ops(emulator, f"sqlite:///{tmp_path / 'mapsync.db'}")
    yield bench
    bench.close()


def test_share_stores_a_file_and_writes_documents_on_request(ops: Ops, tmp_path: Path) -> None:
    opp = ops.opportunity(name="Globex Rollout")
    assert ops.run("sync", "--once").returncode == 0
    out = tmp_path / "docs"
    written = ops.run("share", opp, "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "Globex Rollout - Mutual Action Plan.html", "Globex Rollout - Mutual Action Plan.pdf"]
    assert ops.count("ContentVersion") == 0  # --out stores nothing
    stored = ops.run("share", opp, "--check-ins")
    assert stored.returncode == 0, stored.stderr
    assert "Files created" in stored.stdout
    assert ops.count("ContentVersion") == 1
    again = ops.run("share", opp)
    assert again.returncode == 0
    assert ops.count("ContentVersion") == 1


def test_bad_input_is_one_line(ops: Ops) -> None:
    both = ops.run("share", "006000000000001AAA", "--all")
    assert both.returncode == 2
    assert both.stderr.strip() == "mapsync: give Opportunity Ids or --all, not both"
    nothing = ops.run("share", "006000000000001AAA", "--out", "/tmp/none")
    assert nothing.returncode == 1
    assert nothing.stderr.strip().splitlines()[-1].startswith("mapsync: no plan to render")
    assert "Traceback" not in nothing.stderr
