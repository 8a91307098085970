"""A process that writes to the store until it is killed, for the crash tests.

    python -m tests.store.crash_writer URL midway   commit a baseline unit, then write one
                                                    huge unit forever (never committing)
    python -m tests.store.crash_writer URL loop     commit units n = 0, 1, 2, … forever

It prints a line after each step so the test knows when to send SIGKILL. Every unit of the
loop writes the same ``n`` into the watermark, every shadow and the run's counts, so after
the kill the store must show one ``n`` everywhere.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta

from sync.store import RunOutcome, ShadowWrite, Store, Watermark

ORG = "00D000000000001AAA"
OBJ = "MAP_Milestone__c"
BASE = datetime(2026, 3, 1, tzinfo=UTC)
LOOP_RECORDS = 2_000
MIDWAY_BATCH = 5_000
GIVE_UP_SECONDS = 60  # never outlive a test run that died before killing us


def orphaned(started: float, parent: int) -> bool:
    return os.getppid() != parent or time.monotonic() - started > GIVE_UP_SECONDS


def unit(store: Store, n: int, records: int) -> None:
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity",
                         Watermark(BASE + timedelta(seconds=n), frozenset({f"006{n:015d}"})))
        tx.put_shadows(ORG, OBJ, [ShadowWrite(f"006{i:015d}:kickoff", None, {"n": n})
                                  for i in range(records)])
        run_id = tx.start_run(ORG, "cycle")
        tx.finish_run(run_id, RunOutcome.SUCCEEDED, {"n": n}, api_calls=n)


def midway(store: Store, started: float, parent: int) -> None:
    unit(store, 0, 10)
    print("baseline committed", flush=True)
    with store.transaction() as tx:
        tx.set_watermark(ORG, "Opportunity", Watermark(BASE + timedelta(days=1)))
        run_id = tx.start_run(ORG, "cycle")
        batch = 0
        while not orphaned(started, parent):
            tx.put_shadows(ORG, OBJ, [ShadowWrite(f"006{batch:06d}{i:09d}:x", None, {"n": -1})
                                      for i in range(MIDWAY_BATCH)])
            tx.finish_run(run_id, RunOutcome.SUCCEEDED, {"n": -1}, api_calls=batch)
            batch += 1
            if batch == 1:
                print("writing", flush=True)
        raise SystemExit("gave up waiting to be killed")  # inside the unit: it rolls back


def loop(store: Store, started: float, parent: int) -> None:
    n = 0
    while not orphaned(started, parent):
        unit(store, n, LOOP_RECORDS)
        print(f"committed {n}", flush=True)
        n += 1


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    started, parent = time.monotonic(), os.getppid()
    store = Store.open(url)
    {"midway": midway, "loop": loop}[mode](store, started, parent)
    sys.exit("gave up waiting to be killed")


if __name__ == "__main__":
    main()
