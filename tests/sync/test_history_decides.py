"""Salesforce's history decides: a rep's edit wins over mapsync's write whatever their order.

Each race is made on purpose: ``RunControl.before_write`` runs a rep's edit (from the rep's
own session) between a cycle's read and its write, on the Collections path and on the Bulk
path, as a rep working in Salesforce while a cycle runs would.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from sync.cycle import RunControl
from tests.sync.world import TODAY, World


def once(action: Any) -> Any:
    """A ``before_write`` hook that runs ``action`` before the cycle's first write only."""
    done: list[bool] = []

    def hook() -> None:
        if not done:
            done.append(True)
            action()
    return hook


def needs_analysis_milestone(world: World, opp: str) -> dict[str, Any]:
    return next(m for m in world.milestones(opp).values()
                if m["Stage__c"] == "Needs Analysis" and m["Status__c"] != "Done")


@pytest.mark.parametrize("path", ["collections", "bulk"])
def test_a_reps_status_set_between_a_cycles_read_and_write_is_restored_and_pinned(
        emulator: Emulator, tmp_path: Path, path: str) -> None:
    settings = {"sf_bulk_threshold": 1} if path == "bulk" else {}
    world = World(emulator, tmp_path, settings=settings)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    milestone = needs_analysis_milestone(world, opp)
    world.edit("Opportunity", opp, StageName="Value Proposition")  # completes it by stage
    # The rep blocks the milestone after the cycle read it and before the cycle's write
    # (Done, by stage) lands on top of the rep's value.
    world.cycle(RunControl(before_write=once(
        lambda: world.edit("MAP_Milestone__c", milestone["Id"], Status__c="Blocked"))))
    assert world.milestones(opp)[milestone["Key__c"]]["Status__c"] == "Done"  # the race
    world.cycle()
    assert world.milestones(opp)[milestone["Key__c"]]["Status__c"] == "Blocked"  # restored
    world.edit("Opportunity", opp, StageName="Perception Analysis")
    for _ in range(2):
        world.cycle()
    assert world.milestones(opp)[milestone["Key__c"]]["Status__c"] == "Blocked"  # pinned


def test_a_reps_stage_change_made_during_a_cycle_is_planned_by_the_next_cycle(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path)
    opp = world.opportunity(stage="Qualification")
    world.cycle()
    first = needs_analysis_milestone(world, opp)
    world.edit("MAP_Milestone__c", first["Id"], Status__c="Done")  # the cycle will re-plan
    # While that cycle runs, the rep moves the deal on; the cycle's rollup write then lands
    # on the Opportunity after the rep's change, so its last modifier is mapsync.
    world.cycle(RunControl(before_write=once(
        lambda: world.edit("Opportunity", opp, StageName="Proposal/Price Quote"))))
    assert world.opportunity_record(opp)["LastModifiedById"] == world.client.user_id
    assert not [m for m in world.milestones(opp).values()
                if m["Stage__c"] == "Value Proposition" and m["Status__c"] == "Done"]
    world.cycle()
    passed = [m for m in world.milestones(opp).values() if m["Stage__c"] == "Value Proposition"]
    assert passed
    assert all(m["Status__c"] == "Done" for m in passed), "planned by the next cycle"


def test_after_the_store_is_lost_a_moved_close_date_leaves_every_rep_set_due_date(
        emulator: Emulator, tmp_path: Path) -> None:
    world = World(emulator, tmp_path / "first")
    opp = world.opportunity(stage="Needs Analysis", close_in_days=150)
    world.cycle()
    ms = sorted(world.milestones(opp).values(), key=lambda m: m["Due_Date__c"])
    moved = {m["Key__c"]: (dt.date.fromisoformat(m["Due_Date__c"]) + dt.timedelta(days=21))
             .isoformat() for m in ms[2:4]}
    for m in ms[2:4]:
        world.edit("MAP_Milestone__c", m["Id"], Due_Date__c=moved[m["Key__c"]])
    world.cycle()
    # The store is gone (a new machine, an empty DATABASE_URL); the rep moves the close date.
    fresh = World(emulator, tmp_path / "second")
    fresh.edit("Opportunity", opp, CloseDate=(TODAY + dt.timedelta(days=190)).isoformat())
    fresh.cycle()
    fresh.cycle()
    after = fresh.milestones(opp)
    assert {k: after[k]["Due_Date__c"] for k in moved} == moved
    others = [m for m in ms if m["Key__c"] not in moved]
    assert any(after[m["Key__c"]]["Due_Date__c"] != m["Due_Date__c"] for m in others)


REP_VALUES = {"Status__c": ["Blocked", "In Progress", "Skipped"],
              "Due_Date__c": [(TODAY + dt.timedelta(days=d)).isoformat() for d in (40, 55, 70)]}


STAGES = ["Qualification", "Needs Analysis", "Value Proposition", "Perception Analysis",
          "Proposal/Price Quote"]


@pytest.mark.parametrize("seed", range(4))
def test_no_rep_value_is_lost_in_any_interleaving_once_two_quiet_cycles_ran(
        emulator: Emulator, tmp_path: Path, seed: int) -> None:
    """Model: stages move (so cycles complete milestones) while reps set pinnable fields
    before cycles and between a cycle's read and its write, often on the very milestones
    the cycle is completing; once the org is quiet and two cycles ran, every field a rep
    set holds the rep's last value."""
    rng = random.Random(seed)
    world = World(emulator, tmp_path, settings={"sf_bulk_threshold": rng.choice([1, 2000])})
    opps = [world.opportunity(stage="Qualification", name=f"Deal {n}") for n in range(3)]
    world.cycle()
    stage_of = dict.fromkeys(opps, 0)
    last: dict[tuple[str, str], Any] = {}  # (milestone Id, field) -> the rep's last value

    def rep_edit(milestones: list[dict[str, Any]]) -> None:
        if not milestones:
            return
        milestone = rng.choice(milestones)
        name = rng.choice(sorted(REP_VALUES))
        value = rng.choice(REP_VALUES[name])
        world.edit("MAP_Milestone__c", milestone["Id"], **{name: value})
        last[(milestone["Id"], name)] = value

    for _ in range(4):
        opp = rng.choice(opps)
        stage_of[opp] = min(stage_of[opp] + 1, len(STAGES) - 1)
        world.edit("Opportunity", opp, StageName=STAGES[stage_of[opp]])
        ms = list(world.milestones(opp).values())
        if rng.random() < 0.3:
            rep_edit(ms)
        completing = [m for m in ms if m["Stage__c"] in STAGES[:stage_of[opp] + 1]
                      and m["Status__c"] != "Done"]
        world.cycle(RunControl(before_write=once(lambda c=completing: rep_edit(c))))
    world.cycle()
    world.cycle()
    assert last
    for (milestone, name), value in last.items():
        row = world.query(f"SELECT {name} FROM MAP_Milestone__c WHERE Id = '{milestone}'")[0]
        assert row[name] == value, f"{milestone}.{name}: the rep set {value}, " \
                                   f"Salesforce holds {row[name]}"
