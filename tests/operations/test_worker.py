"""``mapsync worker``: picks up changes within an interval, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import requests

from connectors.emulator.server import Emulator
from sync.cycle import run_batch
from sync.store.records import RunKind, RunOutcome
from tests.operations.ops import PLAN, Ops, stop, wait_for

FAST = ("--heartbeat", "0.5", "--lease-ttl", "5", "--no-reconcile", "--retry-interval", "600")


def finished_cycles(ops: Ops) -> int:
    with ops.store.transaction(write=False) as tx:
        runs = tx.latest_runs(ops.sync().id, 100, RunKind.CYCLE)
    return sum(1 for r in runs if r.outcome is not RunOutcome.RUNNING)


def test_worker_plans_a_newly_qualifying_opportunity_within_one_interval(ops: Ops,
                                                                         tmp_path: Path):
    interval = 2.0
    port = free_port()
    worker = ops.start("worker", "--interval", str(interval), "--metrics-port", str(port),
                       *FAST, log=tmp_path / "w.log")
    try:
        wait_for(lambda: finished_cycles(ops) >= 1, 30, what="the first cycle")
        opp = ops.opportunity(name="Globex – Fleet Analytics")
        created = time.monotonic()
        wait_for(lambda: ops.rows(f"SELECT Id FROM {PLAN} WHERE Opportunity__c = '{opp}'"),
                 interval + 10, every=0.05, what="the new Opportunity's plan")
        elapsed = time.monotonic() - created
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        code, _ = stop(worker)
    assert elapsed <= interval + 1.5, f"plan appeared {elapsed:.1f} s after the change"
    assert code == 0
    assert 'mapsync_runs_total{kind="cycle",outcome="succeeded"}' in metrics
    assert "mapsync_lease_held 1.0" in metrics
    assert 'mapsync_records_written_total{object="MAP_Milestone__c"}' in metrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_idle_worker_spends_one_api_call_per_cycle(ops: Ops, tmp_path: Path):
    worker = ops.start("worker", "--interval", "0.5", *FAST, log=tmp_path / "w.log")
    try:
        wait_for(lambda: finished_cycles(ops) >= 2, 30, what="the first cycles")
        before_calls, before_cycles = ops.org.api_calls, finished_cycles(ops)
        time.sleep(3)
        calls, cycles = ops.org.api_calls - before_calls, finished_cycles(ops) - before_cycles
    finally:
        stop(worker)
    assert cycles >= 3
    assert calls <= cycles + 1  # one Composite poll per cycle (one may be in flight)


def test_sigterm_mid_cycle_exits_zero_within_25_seconds_and_the_next_start_converges(
        demo_org: Emulator, tmp_path: Path):
    demo_org.reset(seed="demo", opportunities=1200)
    demo_org.set_knobs(latency_ms=20)
    ops = Ops(demo_org, f"sqlite:///{tmp_path / 'm.db'}")
    log = tmp_path / "w.log"
    worker = ops.start("worker", "--interval", "60", *FAST, log=log)
    org_id = ops.sync().id

    def cycle_running() -> bool:
        with ops.store.transaction(write=False) as tx:
            runs = tx.latest_runs(org_id, 1, RunKind.CYCLE)
        return bool(runs) and runs[0].outcome is RunOutcome.RUNNING

    wait_for(cycle_running, 30, every=0.02, what="a cycle in flight")
    wait_for(lambda: ops.count(PLAN) > 0, 30, every=0.05, what="the first plans landing")
    code, seconds = stop(worker, signal.SIGTERM)
    assert code == 0
    assert seconds < 25
    landed = ops.count(PLAN)

    demo_org.set_knobs(latency_ms=0)
    again = ops.start("worker", "--interval", "0.5", *FAST, log=log)
    try:
        def settled() -> bool:
            with ops.store.transaction(write=False) as tx:
                runs = tx.latest_runs(org_id, 2, RunKind.CYCLE)
            return len(runs) == 2 and all(r.outcome is RunOutcome.SUCCEEDED and
                                          r.counts.get("touched") == 0 for r in runs)
        wait_for(settled, 60, what="a quiet cycle after the restart")
    finally:
        stop(again)
    assert ops.count(PLAN) >= landed
    assert ops.no_duplicates()
    fresh = run_batch(ops.sync(), ops.rows(
        "SELECT Id, IsDeleted, SystemModstamp, LastModifiedById, Name, StageName, CloseDate, "
        "Amount, Type, AccountId, MAP_Health__c, MAP_Percent_Complete__c, MAP_Days_Slipped__c, "
        "MAP_Projected_Close_Date__c FROM Opportunity"), dry_run=True)
    assert fresh.plans_created == 0
    assert fresh.plans_updated == 0
    ops.close()
