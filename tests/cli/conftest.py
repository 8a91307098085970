"""Fixtures of the CLI tests: the environment a newcomer's shell would hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.emulator.server import Emulator


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No mapsync variable from the developer's shell or a ``.env``; a store in tmp_path."""
    import os

    for key in list(os.environ):
        if key.startswith(("SF_", "MAPSYNC_", "SYNC_", "LOG_")) or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


@pytest.fixture
def org_env(emulator: Emulator, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The shell of someone who sourced the local org's ``emulator.env``."""
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    return emulator
