"""A rep at work while a large first cycle runs: Salesforce's history keeps the rep's edit.

A streamed first cycle reads the whole org in one Bulk query, then plans, uploads and commits
(``sync/cycle/first_cycle.py``): at a million Opportunities the read and the write are far
apart. A rep's edit made in between, from the rep's own session, must survive: the next
cycle plans it (a stage moved under the cycle's rollup write) or keeps it (a milestone the
rep set after the cycle's write landed). The local org's Bulk threshold is 3 and the chunk
one Opportunity, so four Opportunities take the streamed path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from sync.cycle import RunControl
from sync.store import Transaction
from tests.sync.world import World

STREAMED = {"sf_bulk_threshold": 3}


def _world(emulator: Emulator, tmp_path: Path) -> tuple[World, str]:
    """A world whose first cycle streams; the Opportunity the rep works on."""
    world = World(emulator, tmp_path, settings=STREAMED, chunk_size=1)
    opps = [world.opportunity(stage="Qualification", close_in_days=60 + 7 * n,
                              name=f"Deal {n}") for n in range(4)]
    return world, opps[1]


def _once(action: Any) -> Any:
    done: list[bool] = []

    def hook(*_: Any) -> None:
        if not done:
            done.append(True)
            action()
    return hook


def _passed(world: World, opp: str, stage: str) -> list[dict[str, Any]]:
    return [m for m in world.milestones(opp).values() if m["Stage__c"] == stage]


def test_a_stage_moved_between_a_first_cycles_read_and_its_write_is_planned_next_cycle(
        emulator: Emulator, tmp_path: Path) -> None:
    world, opp = _world(emulator, tmp_path)
    jobs = emulator.org.bulk_tally.jobs
    # The rep moves the deal on after the cycle's Bulk read, before its first upload; the
    # rollup job then writes the Opportunity after the rep, so mapsync is its last modifier.
    report = world.cycle(RunControl(before_write=_once(
        lambda: world.edit("Opportunity", opp, StageName="Proposal/Price Quote"))))
    assert report.outcome == "succeeded"
    assert report.touched == 4
    assert emulator.org.bulk_tally.jobs - jobs == 5  # streamed: one read, four uploads
    assert world.opportunity_record(opp)["LastModifiedById"] == world.client.user_id
    passed = _passed(world, opp, "Value Proposition")
    assert passed
    assert not any(m["Status__c"] == "Done" for m in passed)  # planned at Qualification
    world.cycle()
    passed = _passed(world, opp, "Value Proposition")
    assert all(m["Status__c"] == "Done" for m in passed), "the rep's stage, planned"


def test_a_milestone_a_rep_sets_before_a_first_cycle_commits_stays_the_reps(
        emulator: Emulator, tmp_path: Path) -> None:
    world, opp = _world(emulator, tmp_path)
    key: list[str] = []

    def block() -> None:  # every job landed; the cycle has not committed yet
        milestone = next(m for m in world.milestones(opp).values()
                         if m["Stage__c"] == "Needs Analysis")
        key.append(milestone["Key__c"])
        world.edit("MAP_Milestone__c", milestone["Id"], Status__c="Blocked")

    def guard(tx: Transaction) -> None:
        hook()

    hook = _once(block)
    assert world.cycle(RunControl(guard=guard)).outcome == "succeeded"
    assert world.milestones(opp)[key[0]]["Status__c"] == "Blocked"
    world.cycle()
    assert world.milestones(opp)[key[0]]["Status__c"] == "Blocked"
    world.edit("Opportunity", opp, StageName="Proposal/Price Quote")  # would complete it
    for _ in range(2):
        world.cycle()
    assert world.milestones(opp)[key[0]]["Status__c"] == "Blocked", "the rep's, pinned"
    assert all(m["Status__c"] == "Done" for m in _passed(world, opp, "Value Proposition"))


def test_a_reps_edits_between_a_first_cycle_ended_in_its_push_and_its_resume_stand(
        emulator: Emulator, tmp_path: Path) -> None:
    world, opp = _world(emulator, tmp_path)

    def killed(tx: Transaction) -> None:  # every job landed; killed before any commit
        raise SystemExit("killed")

    with pytest.raises(SystemExit):
        world.cycle(RunControl(guard=killed))
    milestone = next(m for m in world.milestones(opp).values()
                     if m["Stage__c"] == "Needs Analysis")
    world.edit("MAP_Milestone__c", milestone["Id"], Status__c="Blocked")
    world.edit("Opportunity", opp, StageName="Proposal/Price Quote")
    jobs = emulator.org.bulk_tally.jobs
    resumed = world.cycle()
    assert resumed.outcome == "succeeded"
    assert resumed.plans_created == 4  # the saved jobs' results, committed
    assert emulator.org.bulk_tally.jobs == jobs  # nothing uploaded again
    for _ in range(2):
        world.cycle()
    assert world.milestones(opp)[milestone["Key__c"]]["Status__c"] == "Blocked"
    assert all(m["Status__c"] == "Done" for m in _passed(world, opp, "Value Proposition"))
