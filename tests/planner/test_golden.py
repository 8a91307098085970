"""The planner answers exactly as it did when ``golden_plans.json`` was recorded.

A guard for the planner's speed work: memos and shortcuts must never change a plan. A seeded
world of deals (``seeded_world``) lives through a few cycles each; the canonical text of every
plan is digested per block of deals and compared with the recorded digests. A deliberate
change of behaviour re-records them (``python -m tests.planner.test_golden``) in the same commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.planner.seeded_world import histories

GOLDEN = Path(__file__).with_name("golden_plans.json")
DEALS, BLOCK, SEED = 1_500, 250, 14


def digests(deals: int = DEALS, block: int = BLOCK, seed: int = SEED) -> list[str]:
    out: list[str] = []
    h = hashlib.sha256()
    for n, history in enumerate(histories(deals, seed), start=1):
        for text in history:
            h.update(text.encode())
            h.update(b"\n")
        if n % block == 0 or n == deals:
            out.append(h.hexdigest()[:16])
            h = hashlib.sha256()
    return out


def test_every_plan_of_the_seeded_world_is_the_recorded_one() -> None:
    recorded = json.loads(GOLDEN.read_text())
    assert (recorded["deals"], recorded["block"], recorded["seed"]) == (DEALS, BLOCK, SEED)
    now = digests()
    differing = [i * BLOCK for i, (a, b) in enumerate(zip(now, recorded["digests"],
                                                          strict=True)) if a != b]
    assert not differing, f"plans differ among deals starting at {differing}"


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(
        {"deals": DEALS, "block": BLOCK, "seed": SEED, "digests": digests()}, indent=1) + "\n")
    print(f"recorded {GOLDEN}")
