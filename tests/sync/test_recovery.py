"""Recovery keeps reps' work: whatever the local store lost, Salesforce says what reps deleted
and pinned, so a recovery backfill, a reconcile or a cycle on a fresh store undoes none of it."""

from __future__ import annotations

from pathlib import Path

from connectors.emulator.server import Emulator
from sync.cycle import run_batch
from sync.cycle.sobjects import OPPORTUNITY_FIELDS
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
