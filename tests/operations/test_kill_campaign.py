"""Progress under repeated kills: a worker SIGKILLed again and again while Salesforce fails a
fifth of its calls still gets the org to exactly the fault-free result, within a bounded
number of lives, with no duplicates. The small version of ``make bench``'s chaos campaign."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from connectors.emulator.server import Emulator
from sync.cycle import run_cycle
from sync.store.records import RunKind, RunOutcome
from tests.operations.ops import Ops, wait_for

MAX_LIVES = 20  # the bound: 300 Opportunities at 20 % faults, chunks of 10, a kill every 3-6 s
OPPORTUNITIES = 300
FAULTS = {"unavailable_rate": 0.1, "drop_rate": 0.05, "lock_rate": 0.05}
NO_FAULTS = dict.fromkeys(FAULTS, 0.0)


def settled(ops: Ops, org_id: str) -> bool:
    """The last cycle found nothing to do and no dead letter waits for a retry."""
    with ops.store.transaction(write=False) as tx:
        runs = tx.latest_runs(org_id, 1, RunKind.CYCLE)
        letters = tx.dead_letters(org_id, status="open")
    return bool(runs) and runs[0].outcome is RunOutcome.SUCCEEDED \
        and runs[0].counts.get("touched") == 0 and not letters


def test_a_worker_killed_again_and_again_under_faults_converges_to_the_fault_free_org(
        demo_org: Emulator, tmp_path: Path) -> None:
    demo_org.reset(seed="demo", opportunities=OPPORTUNITIES)
    clean = Ops(demo_org, f"sqlite:///{tmp_path / 'clean.db'}")
    for _ in range(3):
        run_cycle(clean.sync())
    expected = clean.snapshot()
    clean.close()
    demo_org.reset(seed="demo", opportunities=OPPORTUNITIES)

    ops = Ops(demo_org, f"sqlite:///{tmp_path / 'mapsync.db'}",
              sync_chunk_size=10)
    org_id = ops.sync().id
    demo_org.set_knobs(**FAULTS)
    rng = random.Random(3)
    lives = 0
    committed: list[int] = []
    try:
        while lives < MAX_LIVES and not settled(ops, org_id):
            lives += 1
            log = tmp_path / f"life{lives}.log"
            worker = ops.start("worker", "--interval", "0.2", "--no-reconcile",
                               "--retry-interval", "600", log=log)
            # a life's 3-6 s count from the worker's start, not its process's launch: on a
            # loaded machine the interpreter's start-up alone can take seconds
            wait_for(lambda at=log: b"worker started" in at.read_bytes(), 60,
                     every=0.05, what="the worker's start")
            time.sleep(rng.uniform(3.0, 6.0))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            with ops.store.transaction(write=False) as tx:
                committed.append(len(tx.latest_runs(org_id, 10_000)))
    finally:
        demo_org.set_knobs(**NO_FAULTS)
    print(f"converged after {lives} worker lives (bound {MAX_LIVES}); runs recorded: "
          f"{committed}")
    assert settled(ops, org_id), f"not converged after {lives} lives"
    assert 1 < lives <= MAX_LIVES  # killed before it was done, and done within the bound
    assert committed == sorted(committed)  # what a life committed stays committed
    assert ops.no_duplicates()
    assert ops.snapshot() == expected
    ops.close()
