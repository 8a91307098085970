"""Two workers on one PostgreSQL store: never two cycles at once; a survivor takes over."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.errors import LeaseLostError
from connectors.emulator.server import Emulator
from connectors.salesforce.transport import writes_records
from sync.cycle import run_cycle
from sync.jobs.worker import Worker, WorkerOptions
from sync.store.records import RunKind, RunOutcome
from tests.fixtures.postgres import PostgresServer
from tests.operations.ops import MAPSYNC, PLAN, Ops, stop, wait_for

WORKER = ("worker", "--interval", "0.3", "--heartbeat", "0.3", "--lease-ttl", "3",
          "--no-reconcile", "--retry-interval", "600")


@pytest.fixture
def pg_ops(demo_org: Emulator, postgres_server: PostgresServer) -> Iterator[Ops]:
    url = postgres_server.create_database()
    bench = Ops(demo_org, url)
    bench.store.upgrade()
    yield bench
    bench.close()
    postgres_server.drop_database(url.rsplit("/", 1)[1])


def cycle_intervals(ops: Ops, org_id: str) -> list[tuple[float, float]]:
    with ops.store.transaction(write=False) as tx:
        runs = tx.latest_runs(org_id, 10_000, RunKind.CYCLE)
    return sorted((r.started_at.timestamp(), r.finished_at.timestamp())
                  for r in runs if r.outcome is not RunOutcome.RUNNING and r.finished_at)


def test_two_workers_never_overlap_a_cycle_and_the_survivor_takes_over(pg_ops: Ops,
                                                                       tmp_path: Path):
    pg_ops.org.set_knobs(latency_ms=15)  # cycles long enough to collide if unguarded
    org_id = pg_ops.sync().id
    first = pg_ops.start(*WORKER, log=tmp_path / "a.log")
    second = pg_ops.start(*WORKER, log=tmp_path / "b.log")
    workers = [first, second]
    try:
        wait_for(lambda: len(cycle_intervals(pg_ops, org_id)) >= 8, 60, what="cycles")
        holder = wait_for(lambda: pg_ops.store.lease_holder(org_id), 10, what="a holder")
        pid = int(holder.split(":")[1])
        victim = next(w for w in workers if w.pid == pid)
        survivor = next(w for w in workers if w.pid != pid)
        before_kill = len(cycle_intervals(pg_ops, org_id))
        stop(victim, signal.SIGKILL)
        killed_at = time.time()
        new_holder = wait_for(
            lambda: (h := pg_ops.store.lease_holder(org_id)) and h != holder and h, 15,
            what="the survivor taking the lease")
        wait_for(lambda: len(cycle_intervals(pg_ops, org_id)) >= before_kill + 5, 30,
                 what="cycles after the takeover")
    finally:
        for w in workers:
            if w.poll() is None:
                stop(w)
    assert int(new_holder.split(":")[1]) == survivor.pid
    intervals = cycle_intervals(pg_ops, org_id)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert start >= end, "two cycles of one org ran at the same time"
    assert any(start > killed_at for start, _ in intervals)


def test_a_worker_that_lost_its_lease_commits_nothing(ops: Ops):
    org = ops.sync()
    worker = Worker(org, WorkerOptions(holder="stalled", lease_ttl_seconds=60))
    assert ops.store.try_acquire_lease(org.id, "took-over", 60)
    with pytest.raises(LeaseLostError):
        run_cycle(org, worker.control)
    with ops.store.transaction(write=False) as tx:
        assert tx.watermarks(org.id) == {}
        assert tx.latest_runs(org.id, 1)[0].outcome is RunOutcome.FAILED
    del worker


def test_the_lease_holder_commits_its_cycle(ops: Ops):
    org = ops.sync()
    worker = Worker(org, WorkerOptions(holder="holder", lease_ttl_seconds=60))
    assert worker.lease.take()
    assert run_cycle(org, worker.control).outcome == RunOutcome.SUCCEEDED.value
    with ops.store.transaction(write=False) as tx:
        assert tx.watermarks(org.id)


def test_two_sync_once_started_together_do_the_work_once(ops: Ops) -> None:
    ops.org.set_knobs(latency_ms=1500)  # a cycle of ten seconds: the two surely meet
    org_id = ops.sync().id
    env = ops.env()

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([MAPSYNC, "sync", "--once", "--wait", "0"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)

    first = start()
    wait_for(lambda: ops.store.lease_holder(org_id), 60, what="the first to hold the org")
    second = start()  # while the first one's cycle runs
    runs = [first, second]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in runs]
    assert [code for code, _ in outcomes] == [0, 1], outcomes
    refused = outcomes[1][1]
    assert f"org {org_id} is being synced by" in refused.strip().splitlines()[-1]
    assert len(cycle_intervals(ops, org_id)) == 1  # the refused one started no run
    ops.org.set_knobs(latency_ms=0)
    plans = ops.count(PLAN)
    assert plans > 0
    assert ops.no_duplicates()
    assert run_cycle(ops.sync()).plans_created == 0  # the work was done, once, in full
    assert ops.count(PLAN) == plans


def test_a_sync_once_waits_for_the_lease_then_runs(ops: Ops) -> None:
    org_id = ops.sync().id
    assert ops.store.try_acquire_lease(org_id, "a-worker", 2)
    done = ops.run("sync", "--once", "--wait", "10")
    assert done.returncode == 0, done.stderr
    assert cycle_intervals(ops, org_id)


def _writes(journal: list[tuple[float, str, str, str]], tokens: set[str],
            after: float) -> list[tuple[float, str, str, str]]:
    return [e for e in journal if e[1] in tokens and e[0] > after and e[2] != "GET"
            and writes_records(e[3])]


def test_a_holder_paused_past_its_lease_sends_no_write_after_it_resumes(pg_ops: Ops,
                                                                      tmp_path: Path):
    pg_ops.org.set_knobs(latency_ms=150, journal=True)  # a push of several calls
    org_id = pg_ops.sync().id
    journal = pg_ops.org.org.journal
    old = pg_ops.start(*WORKER, log=tmp_path / "old.log")
    try:
        wait_for(lambda: [e for e in _writes(journal, {e[1] for e in journal}, 0.0)
                          if "MAP_Milestone__c" in e[3]], 60,
                 what="the first holder's first milestone write", every=0.005)
        old.send_signal(signal.SIGSTOP)  # paused between two requests of one push step
        old_tokens = {e[1] for e in journal}
        time.sleep(4)  # past the lease's 3 s time to live
        new = pg_ops.start(*WORKER, log=tmp_path / "new.log")
        try:
            wait_for(lambda: (h := pg_ops.store.lease_holder(org_id)) is not None
                     and int(h.split(":")[1]) == new.pid, 30, what="the new holder")
            wait_for(lambda: _writes(journal, {e[1] for e in journal} - old_tokens, 0.0), 30,
                     what="the new holder's writes")
            resumed_at = time.monotonic()
            old.send_signal(signal.SIGCONT)
            time.sleep(4)  # the old holder runs on into its next write step and cycles
            assert _writes(journal, old_tokens, resumed_at) == []
            assert old.poll() is None  # it stands by, it did not crash
        finally:
            stop(new)
    finally:
        if old.poll() is None:
            old.send_signal(signal.SIGCONT)
            stop(old)
    log = (tmp_path / "old.log").read_text()
    assert "lease" in log
    assert pg_ops.no_duplicates()
