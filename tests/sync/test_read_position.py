"""The read position: server time of the poll, a lookback as long as Salesforce's longest
transaction, and idle polls that cost one call however large the last burst was."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from connectors.emulator.server import Emulator
from sync.cycle.sobjects import OPPORTUNITY
from tests.sync.world import TODAY, World


def test_a_change_committed_nine_minutes_late_is_taken_by_the_next_poll(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Needs Analysis")
    world.cycle()
    # A rep's transaction that ran nine minutes commits with a stamp nine minutes old.
    emulator.set_knobs(late_stamp_rate=1.0, late_stamp_ms=9 * 60 * 1000)
    world.edit("Opportunity", opp, StageName="Negotiation/Review")
    emulator.set_knobs(late_stamp_rate=0.0)
    report = world.cycle()
    assert report.pulled[OPPORTUNITY] == 1
    done = [m for m in world.milestones(opp).values() if m["Status__c"] == "Done"]
    assert len(done) >= 3  # the stages passed completed their milestones


def test_after_a_burst_of_5000_rep_edits_an_idle_poll_costs_one_call(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path, lookback=dt.timedelta(seconds=3))
    world.cycle()
    close = (TODAY + dt.timedelta(days=60)).isoformat()
    for start in range(0, 5000, 200):  # reps load 5,000 early-stage deals (no plan yet)
        records = [{"attributes": {"type": "Opportunity"}, "Name": f"Lead {n}",
                    "StageName": "Prospecting", "CloseDate": close,
                    "AccountId": world.account_id} for n in range(start, start + 200)]
        world.rep.restful("composite/sobjects", method="POST",
                          data=json.dumps({"allOrNone": True, "records": records}))
    burst = world.cycle()
    assert burst.pulled[OPPORTUNITY] == 5000
    time.sleep(4)  # the burst is now older than the lookback window
    world.cycle()
    idle = world.cycle()
    assert idle.touched == 0
    assert idle.api_calls == 1
    with world.store.transaction(write=False) as tx:
        mark = tx.watermark(world.org_id, OPPORTUNITY)
    assert mark is not None
    assert mark.ids_at == frozenset()  # nothing inside the window is remembered any more
