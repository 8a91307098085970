"""The cycle under faults: flaky networks, expiring sessions, late commits, kills, quota."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from config.errors import RetryableError
from connectors.emulator.profile import profile_named
from connectors.emulator.server import Emulator
from sync.cycle import Org, RunControl, StopToken, run_cycle
from sync.store.records import RunOutcome
from tests.sync.world import World


def by_name(world: World) -> set[tuple[Any, ...]]:
    """The org's plans and milestones with Opportunity Ids replaced by names (stable across
    two seedings of the same org)."""
    names = {r["Id"]: r["Name"] for r in world.query("SELECT Id, Name FROM Opportunity")}
    out = set()
    for row in world.snapshot():
        ext = str(row[1])
        opp, _, key = ext.partition(":")
        out.add((row[0], names.get(opp, opp), key, *row[2:]))
    return out


def settle(world: World, cycles: int = 12) -> None:
    """Run cycles until one finds nothing to do and leaves no dead letter open. A cycle that
    fails once its retries are spent (a streak of 503s, drops and locks) is what the worker
    meets too: the run is recorded as failed, its read position stays, the next cycle repeats
    it."""
    for _ in range(cycles):
        try:
            report = world.cycle()
        except RetryableError:
            continue
        with world.store.transaction() as tx:
            open_letters = tx.dead_letters(world.org_id, status="open")
        if report.touched == 0 and not open_letters:
            return
    raise AssertionError(f"no convergence after {cycles} cycles")


def test_faults_converge_to_the_fault_free_result_without_duplicates(demo_org: Emulator,
                                                                      tmp_path: Path) -> None:
    clean = World(demo_org, tmp_path / "clean")
    settle(clean)
    expected = by_name(clean)
    expected_counts = clean.counts()
    assert expected_counts[0] > 30

    demo_org.reset(seed="demo")
    demo_org.set_knobs(unavailable_rate=0.1, drop_rate=0.05, lock_rate=0.1,
                       session_max_calls=9, late_stamp_rate=0.3)
    faulty = World(demo_org, tmp_path / "faulty")
    settle(faulty, cycles=20)
    demo_org.set_knobs(unavailable_rate=0.0, drop_rate=0.0, lock_rate=0.0,
                       session_max_calls=None, late_stamp_rate=0.0)
    assert faulty.counts() == expected_counts  # no duplicates, nothing missing
    assert by_name(faulty) == expected


def _push_then_die(settings: Any, db_dir: Path) -> None:
    from connectors.salesforce.client import SalesforceClient
    from mappings.loader import default_mapping_path, load_mapping
    from sync.store import Store

    def killed(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    from sync.cycle import sequence

    sequence.commit = killed
    org = Org.build(SalesforceClient(settings), Store.open(settings.database_url),
                    load_mapping(default_mapping_path()))
    run_cycle(org)


def test_kill_between_push_and_commit_leaves_no_duplicates(emulator: Emulator,
                                                           tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opps = [world.opportunity(name=f"Deal {i}") for i in range(3)]
    child = multiprocessing.get_context("fork").Process(
        target=_push_then_die, args=(world.settings, tmp_path))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    assert world.counts() == (3, 24)  # the push landed, the commit did not
    report = world.cycle()
    assert report.outcome == RunOutcome.SUCCEEDED.value
    assert report.plans_created == 0
    assert world.counts() == (3, 24)
    for opp in opps:
        assert world.plan(opp) is not None
    again = world.cycle()
    assert again.touched == 0
    assert again.api_calls == 1


def test_quota_exhaustion_stops_the_cycle_cleanly_and_the_next_resumes(demo_org: Emulator,
                                                                       tmp_path: Path) -> None:
    clean = World(demo_org, tmp_path / "clean")
    settle(clean)
    expected = by_name(clean)

    demo_org.reset(seed="demo")
    world = World(demo_org, tmp_path / "limited")
    demo_org.set_knobs(daily_api_limit=demo_org.api_calls + 6)
    report = world.cycle()
    assert report.outcome == RunOutcome.RATE_LIMITED.value
    assert "limit" in (report.error or "").lower()
    with world.store.transaction() as tx:
        assert tx.watermarks(world.org_id) == {}  # nothing consumed: resumable
    demo_org.set_knobs(daily_api_limit=100_000)
    demo_org.reset_api_usage()
    settle(world)
    assert by_name(world) == expected


def test_a_stop_request_ends_the_cycle_at_a_safe_point_and_the_next_resumes(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opps = [world.opportunity(name=f"Deal {i}") for i in range(3)]
    token = StopToken()
    writes: list[int] = []

    def shutdown_after_plans() -> None:
        writes.append(1)
        if len(writes) == 2:  # asked before the milestones: the plans were written
            token.request("shutdown")

    report = world.cycle(RunControl(stop=token, before_write=shutdown_after_plans))
    assert report.outcome == RunOutcome.PARTIAL.value
    assert "safe point" in (report.error or "")
    assert world.counts() == (3, 0)  # plans landed, milestones not started
    with world.store.transaction() as tx:
        assert tx.watermarks(world.org_id) == {}  # the changes are taken again
        assert len(tx.plan_index(world.org_id, opps)) == 3  # what landed is known
        run = tx.latest_runs(world.org_id, 1)[0]
    assert run.outcome == RunOutcome.PARTIAL
    assert run.finished_at is not None

    again = world.cycle()
    assert again.outcome == RunOutcome.SUCCEEDED.value
    assert again.plans_created == 0
    assert world.counts() == (3, 24)


@pytest.mark.parametrize("profile", ["flat", "realistic"])
def test_bulk_job_failed_part_way_dead_letters_exactly_the_rows_it_did_not_write(
        emulator: Emulator, tmp_path: Path, profile: str) -> None:
    world = World(emulator, tmp_path, settings={"sf_bulk_threshold": 5})
    opp = world.opportunity()  # 8 milestones: above the threshold, one Bulk job
    # realistic: the job queues and is processed over several polls, 100 times faster
    emulator.org.set_knobs(bulk_fail_after=5, profile=profile_named(profile, time_scale=0.01))
    report = world.cycle()
    written = world.milestones(opp)
    assert len(written) == 5
    with world.store.transaction() as tx:
        letters = tx.dead_letters(world.org_id)
    assert report.dead_letters == len(letters) == 3
    assert {x.error_code for x in letters} == {"BULK_JOB_FAILED"}
    assert {x.external_id.split(":", 1)[1] for x in letters}.isdisjoint(written)
    assert report.outcome == RunOutcome.PARTIAL.value
