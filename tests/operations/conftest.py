"""Fixtures of the operations tests: a local org and an :class:`Ops` bench around it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from tests.operations.ops import Ops


@pytest.fixture
def ops(demo_org: Emulator, tmp_path: Path) -> Iterator[Ops]:
    """The demo org and a fresh SQLite store."""
    bench = Ops(demo_org, f"sqlite:///{tmp_path / 'mapsync.db'}")
    yield bench
    bench.close()
