"""Recovery keeps reps' work: whatever the local store lost, Salesforce says what reps deleted
and pinned, so a recovery backfill, a reconcile or a cycle on a fresh store undoes none of it."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from sync.cycle import run_batch
from sync.cycle.sobjects import OPPORTUNITY_FIELDS
from sync.jobs.rebuild import rebuild
from sync.store.records import RunKind
from tests.sync.world import World


def rows(world: World, *opps: str) -> list[dict[str, object]]:
    ids = "', '".join(opps)
    return world.query(f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity "
                       f"WHERE Id IN ('{ids}')")


def test_a_recovery_backfill_on_a_fresh_store_recreates_nothing_a_rep_deleted(
        emulator: Emulator, tmp_path: Path) -> None:
    before = World(emulator, tmp_path / "lost")
    gone, kept = before.opportunity(name="Deal 1"), before.opportunity(name="Deal 2")
    before.cycle()
    plan = before.plan(gone)
    assert plan is not None
    before.delete("Mutual_Action_Plan__c", plan["Id"])  # reps delete a plan and a milestone
    milestone = next(iter(before.milestones(kept).values()))
    before.delete("MAP_Milestone__c", milestone["Id"])
    # The store is lost before any cycle saw the deletions; an admin runs a backfill.
    after = World(emulator, tmp_path / "fresh")
    report = run_batch(after.sync, rows(after, gone, kept), kind=RunKind.BACKFILL)
    assert after.plan(gone) is None
    assert report.skipped.get("plan deleted by a rep") == 1
    assert milestone["Key__c"] not in after.milestones(kept)
    after.cycle()
    assert after.plan(gone) is None
    assert milestone["Key__c"] not in after.milestones(kept)
    # Asked on purpose, the backfill brings the plan back.
    run_batch(after.sync, rows(after, gone), kind=RunKind.BACKFILL, recreate_deleted=True)
    assert after.plan(gone) is not None


@pytest.mark.parametrize("path", ["rest", "bulk"])
def test_db_rebuild_refills_the_cache_and_the_next_cycle_changes_nothing_reps_set(
        emulator: Emulator, tmp_path: Path, path: str) -> None:
    before = World(emulator, tmp_path / "lost")
    opps = [before.opportunity(name=f"Deal {n}") for n in range(3)]
    before.cycle()
    plan = before.plan(opps[0])
    assert plan is not None
    before.delete("Mutual_Action_Plan__c", plan["Id"])
    ms = sorted(before.milestones(opps[1]).values(), key=lambda m: m["Due_Date__c"])
    before.edit("MAP_Milestone__c", ms[0]["Id"], Status__c="Blocked")
    moved = (dt.date.fromisoformat(ms[3]["Due_Date__c"]) + dt.timedelta(days=14)).isoformat()
    before.edit("MAP_Milestone__c", ms[3]["Id"], Due_Date__c=moved)
    before.cycle()
    after = World(emulator, tmp_path / "fresh",
                  settings={"sf_bulk_threshold": 1} if path == "bulk" else {})
    found = rebuild(after.sync)
    assert found.details["bulk"] == (path == "bulk")
    assert (found.plans, found.tombstones, found.rep_pins) == (2, 1, 2)
    assert found.milestones == len(before.milestones(opps[1])) + len(before.milestones(opps[2]))
    with after.store.transaction(write=False) as tx:
        assert set(tx.plan_index(after.org_id, opps)) == set(opps[1:])
        assert tx.is_tombstoned(after.org_id, opps[0])
    report = after.cycle()
    assert report.plans_created == 0
    assert report.milestones_written == 0
    now = after.milestones(opps[1])
    assert now[ms[0]["Key__c"]]["Status__c"] == "Blocked"
    assert now[ms[3]["Key__c"]]["Due_Date__c"] == moved


def _cycle_then_die(settings: Any) -> None:
    from connectors.salesforce.client import SalesforceClient
    from mappings.loader import default_mapping_path, load_mapping
    from sync.cycle import Org, run_cycle, sequence
    from sync.store import Store

    def killed(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    sequence.commit = killed
    run_cycle(Org.build(SalesforceClient(settings), Store.open(settings.database_url),
                        load_mapping(default_mapping_path())))


def test_a_rep_edit_after_a_crash_between_push_and_commit_is_kept(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    milestone = next(m for m in world.milestones(opp).values()
                     if m["Stage__c"] == "Needs Analysis")
    world.edit("Opportunity", opp, StageName="Value Proposition")
    child = multiprocessing.get_context("fork").Process(target=_cycle_then_die,
                                                        args=(world.settings,))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    assert world.milestones(opp)[milestone["Key__c"]]["Status__c"] == "Done"  # pushed
    # The store still says mapsync wrote Not Started; the rep sets exactly that value.
    world.edit("MAP_Milestone__c", milestone["Id"], Status__c="Not Started")
    world.cycle()
    world.cycle()
    assert world.milestones(opp)[milestone["Key__c"]]["Status__c"] == "Not Started"
