"""A first cycle's and a backfill's peak memory does not grow with the number of Opportunities.

Issue 14: a million Opportunities must sync on one worker under 500 MB, which only a run that
streams (plans, pushes and commits a chunk or batch at a time, without holding every row of
the org) can promise. Each run here is a real ``mapsync`` run (``tests/benchmarks/child_run``)
in its own process against the local org, with small chunks and batches (500) so a run that
streams has its peak set by one chunk; it is measured at two sizes of org and the growth of
its peak RSS between them is bounded.

The bound: 1 KB per extra Opportunity. What a streaming run may still keep per Opportunity
(its Id in the list of touched ones, the watermark's ``Id@stamp`` of rows read in the
lookback) is ≈ 0.2 KB; a run that holds every Opportunity row read costs ≈ 1.7 KB per row
(issue 14) and more with what it keeps beside it: measured on this machine before the
streaming first cycle, 1,000 → 5,000 Opportunities grew a first cycle's peak by 15.6 MB
(3.9 KB per Opportunity) and a backfill's by 9.6 MB (2.4 KB). A one-milestone mapping keeps
the org's own work (and the test's time) small; the rows mapsync reads are the same.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from connectors.emulator.knobs import Knobs
from connectors.emulator.server import Emulator
from tests.benchmarks.child_run import PAGE_ROWS_ENV, run_child

SMALL, LARGE = 1_000, 5_000
CHUNK = 500  # SYNC_CHUNK_SIZE of the cycle, --batch-size of the backfill
LOOKBACK = 1  # seconds
SEED_AGE = dt.timedelta(minutes=10)  # how long before the run the org was entered
BULK_THRESHOLD = 200  # both sizes take the Bulk path a large org takes (streamed, spooled)
BOUND_PER_OPPORTUNITY = 1024  # bytes of peak RSS per extra Opportunity
LEAN_MAPPING = """\
version: 1
stages: [Prospecting, Qualification, Needs Analysis, Value Proposition, Id. Decision Makers,
         Perception Analysis, Proposal/Price Quote, Negotiation/Review, Closed Won, Closed Lost]
create_at: Qualification
closed_won: Closed Won
closed_lost: Closed Lost
templates:
  - name: lean
    milestones:
      - {key: discovery, name: Discovery, side: buyer, role: Champion, duration: 3}
default_template: lean
"""


def peak_mb(org: Emulator, knobs: Knobs, tmp_path: Path, kind: str, opportunities: int) -> float:
    """Peak RSS (MB) of one ``kind`` run over a freshly seeded org into an empty store."""
    org.reset(seed="empty", opportunities=opportunities, knobs=knobs)
    mapping = tmp_path / "lean.yaml"
    mapping.write_text(LEAN_MAPPING, encoding="utf-8")
    env = {**os.environ, **org.env(), "MAPSYNC_MAPPINGS": str(mapping),
           "DATABASE_URL": f"sqlite:///{tmp_path / f'{kind}-{opportunities}.db'}",
           "LOG_LEVEL": "WARNING", "SYNC_CHUNK_SIZE": str(CHUNK),
           "SF_BULK_THRESHOLD": str(BULK_THRESHOLD), "SYNC_LOOKBACK_SECONDS": str(LOOKBACK),
           PAGE_ROWS_ENV: str(CHUNK)}
    # A real backlog was entered long before the first cycle: rows (and stage history)
    # inside the lookback are kept by Id in the watermark and re-planned, as they must be,
    # and a fresh seed is all inside it. So the org's clock moves on past the first read's
    # window (lookback plus its 5-minute margin) before the run.
    org.org.set_clock(lambda: dt.datetime.now(dt.UTC) + SEED_AGE)
    try:
        result = run_child(kind, env, CHUNK)
    finally:
        org.reset(seed="empty", knobs=knobs)  # the session's org on the wall clock again
    assert result["code"] == 0, result
    assert result["outcome"] == "succeeded", result
    assert result["records"]["plans"] >= 0.7 * opportunities  # it did plan the org
    return float(result["peak_mb"])


@pytest.mark.parametrize("kind", ["cycle", "backfill"])
def test_peak_memory_does_not_grow_with_the_opportunities_of_the_org(
        emulator_server: Emulator, org_knobs: Knobs, tmp_path: Path, kind: str) -> None:
    small = peak_mb(emulator_server, org_knobs, tmp_path, kind, SMALL)
    large = peak_mb(emulator_server, org_knobs, tmp_path, kind, LARGE)
    growth = (large - small) * 1024 * 1024
    bound = BOUND_PER_OPPORTUNITY * (LARGE - SMALL)
    assert growth < bound, (
        f"{kind}: peak RSS {small:.1f} MB at {SMALL:,} Opportunities, {large:.1f} MB at "
        f"{LARGE:,}: +{growth / 2**20:.1f} MB ({growth / (LARGE - SMALL):,.0f} bytes per "
        f"extra Opportunity; bound {BOUND_PER_OPPORTUNITY:,}): the run holds what it should "
        "stream")
