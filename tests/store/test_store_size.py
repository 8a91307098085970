"""The store stays within 250 bytes on disk per synced record, on both backends.

A product promise (issue 14): a customer with a million Opportunities syncs about eleven
million records (a plan, ~10 milestones, a rollup each) and must be able to size the store
from that figure (≤ 3 GB, where full JSON copies in the shadow took ≈ 8 GB). The first real
cycle over a few hundred Opportunities of the local org is weighed, every table and index
included; ``tests/benchmarks/bench_store.py`` gives the same figure at 2,000.
"""

from __future__ import annotations

import math

from connectors.emulator.server import Emulator
from tests.benchmarks.bench_cycle import QUALIFYING_SHARE
from tests.store.sizing import TARGET_BYTES_PER_RECORD, measure

QUALIFYING = 300


def test_a_first_cycle_leaves_at_most_250_bytes_per_synced_record(
        emulator_server: Emulator, database_url: str) -> None:
    emulator_server.reset(seed="empty", opportunities=math.ceil(QUALIFYING / QUALIFYING_SHARE))
    size = measure(emulator_server, database_url)
    assert size.opportunities >= QUALIFYING * 0.8  # the org's generated stages vary a little
    assert size.records >= 10 * size.opportunities  # a plan, its milestones, its rollup
    assert size.per_record <= TARGET_BYTES_PER_RECORD, (
        f"{size.backend}: {size.per_record:.0f} bytes per synced record, "
        f"by table: {size.tables}")
