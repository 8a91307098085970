"""A customer's automation refuses some of mapsync's writes: those become dead letters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator
from sync.store.records import RunOutcome
from tests.fixtures.automation import write_rule
from tests.sync.world import World

MAPSYNC = str(Path(sys.executable).with_name("mapsync"))
RULE_MESSAGE = "Deals over 400k need a deal desk review before their MAP health changes."


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mapsync.db'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return World(emulator, tmp_path)


def test_validation_rule_refusing_one_rollup_dead_letters_that_opportunity_alone(
        world: World, tmp_path: Path) -> None:
    world.org.org.automation.load(write_rule(
        tmp_path / "customer-org", "Opportunity", "Deal_Desk_Review",
        "AND(ISCHANGED(MAP_Health__c), Amount > 400000)", RULE_MESSAGE, "MAP_Health__c"))
    big = world.opportunity(amount=500_000, name="Initech – Enterprise")
    others = [world.opportunity(name=f"Initech – Deal {i}") for i in range(3)]

    report = world.cycle()

    assert report.outcome == RunOutcome.PARTIAL
    for opp in others:  # the rest of the cycle landed
        plan = world.plan(opp)
        assert plan is not None
        assert world.opportunity_record(opp)["MAP_Health__c"] == plan["Health__c"]
    assert world.plan(big) is not None
    assert len(world.milestones(big)) > 0
    assert world.opportunity_record(big)["MAP_Health__c"] is None
    with world.store.transaction(write=False) as tx:
        letters = tx.dead_letters(world.org_id, status="open")
    assert [(dl.object_name, dl.external_id, dl.error_code) for dl in letters] == [
        ("Opportunity", big, "FIELD_CUSTOM_VALIDATION_EXCEPTION")]
    assert letters[0].error_message.endswith(RULE_MESSAGE)

    # as an admin runs it: a process of its own, reading the store and the org's /limits
    done = subprocess.run([MAPSYNC, "status", "--json"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)
    shown = json.loads(done.stdout)
    assert shown["dead_letters_by_code"] == {"FIELD_CUSTOM_VALIDATION_EXCEPTION": 1}
    [reason] = shown["dead_letters_by_reason"]
    assert reason["code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert reason["count"] == 1
    assert reason["message"].endswith(RULE_MESSAGE)


def test_trigger_failing_on_one_milestone_dead_letters_it_and_lands_the_rest(
        world: World) -> None:
    world.org.org.automation.add_trigger(
        "MilestoneTrigger", "MAP_Milestone__c", events=("insert",),
        when="Key__c = 'proposal_accepted'")
    opp = world.opportunity(name="Initech – Platform")

    report = world.cycle()

    assert report.outcome == RunOutcome.PARTIAL
    milestones = world.milestones(opp)
    assert "proposal_accepted" not in milestones
    assert len(milestones) > 3
    with world.store.transaction(write=False) as tx:
        letters = tx.dead_letters(world.org_id, status="open")
    assert [(dl.object_name, dl.error_code) for dl in letters] == [
        ("MAP_Milestone__c", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY")]
    assert "MilestoneTrigger: execution of BeforeInsert" in letters[0].error_message
    assert letters[0].external_id.endswith(":proposal_accepted")
