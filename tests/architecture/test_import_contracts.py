"""The rooms' one-way arrows hold, and the contract that says so fails on a wrong-way import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("sync", "connectors", "mappings", "config")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_repository_keeps_every_import_contract(tmp_path: Path) -> None:
    done = _lint(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_planner_importing_the_cli_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    with (tree / "sync/planner/model.py").open("a") as module:
        module.write("\nimport sync.cli.app  # the wrong way\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "the planner is pure" in done.stdout
    assert "sync.planner.model -> sync.cli.app" in done.stdout


def test_the_cycle_importing_a_job_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    with (tree / "sync/cycle/push.py").open("a") as module:
        module.write("\nfrom sync.jobs import backfill  # the wrong way\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "the cycle imports no job and no CLI BROKEN" in done.stdout


def test_the_store_importing_the_emulator_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    with (tree / "sync/store/records.py").open("a") as module:
        module.write("\nimport connectors.emulator  # the wrong way\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "nothing imports the emulator but the CLI (and the tests) BROKEN" in done.stdout


def test_the_buyer_document_doing_io_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    with (tree / "sync/share/render.py").open("a") as module:
        module.write("\nimport requests  # the wrong way\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "the buyer's document is pure: plan data in, bytes out, no I/O BROKEN" in done.stdout


def test_the_cycle_rendering_a_buyer_document_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    with (tree / "sync/cycle/push.py").open("a") as module:
        module.write("\nfrom sync.share import render_pdf  # the wrong way\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "the cycle and the planner render no buyer document BROKEN" in done.stdout
