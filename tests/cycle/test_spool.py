"""A spool's batches load without the cyclic garbage collector walking the process."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from sync.cycle.changes import PlanChanges
from sync.cycle.decide import Decisions
from sync.cycle.diff import RecordChange
from sync.cycle.spool import Spool


def large_batch(plans: int) -> Decisions:
    """A batch of ``plans`` new plans of eleven milestones each (tens of thousands of
    objects, as a batch of a backfill holds)."""
    out = Decisions()
    for n in range(plans):
        opp = f"006{n:015d}"
        pc = PlanChanges(opp, plan=RecordChange("Mutual_Action_Plan__c", opp,
                                                {"Name": f"MAP: {n}"}, True))
        for m in range(11):
            key = f"{opp}:m{m}"
            pc.milestones.append(RecordChange("MAP_Milestone__c", key,
                                              {"Name": f"Step {m}", "Sequence__c": m}, True))
            pc.shadows[("MAP_Milestone__c", key)] = {"Name": f"Step {m}"}
        out.changes.append(pc)
    return out


def test_a_batch_loads_with_the_collector_paused_and_running_again_after(
        tmp_path: Path) -> None:
    spool = Spool("t", tmp_path)
    spool.start()
    spool.append(large_batch(2_000))
    collections: list[str] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(phase)

    assert gc.isenabled()
    batches = spool.batches()
    gc.callbacks.append(seen)
    try:
        batch = next(batches)
    finally:
        gc.callbacks.remove(seen)
    # at most the one collection that follows the load (before: one per 700 objects built)
    assert len(collections) <= 1
    assert gc.isenabled()
    assert len(batch.changes) == 2_000
    assert batch.changes[-1].milestones[-1].key == f"006{1999:015d}:m10"
    batches.close()
    spool.remove()
