"""A mapping change reaches existing plans only when RevOps applies it (mappings apply).

The local org holds plans built with the shipped mapping; RevOps then changes the
mid-market template: a new milestone (a security check), one removed (solution
validation), a longer proposal. The cycle and the reconcile keep existing plans as they
are; ``apply --dry-run`` lists exactly the changes and writes nothing; ``apply`` adds,
removes (or keeps a rep-changed milestone as Skipped), renumbers and records the version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from mappings.loader import default_mapping_path, load_mapping
from mappings.model import StageMapping
from mappings.version import template_version
from sync.cycle import Org, run_cycle
from sync.jobs.apply import apply_mapping
from sync.jobs.reconcile import reconcile
from tests.sync.world import World

OLD = load_mapping(default_mapping_path())


def changed(mapping: StageMapping) -> StageMapping:
    """The mid-market template with security_check added, solution_validation removed and a
    proposal three business days longer."""
    data = mapping.model_dump(mode="json")
    template = next(t for t in data["templates"] if t["name"] == "mid_market")
    steps = [m for m in template["milestones"] if m["key"] != "solution_validation"]
    at = [m["key"] for m in steps].index("success_criteria") + 1
    steps.insert(at, {"key": "security_check", "name": "Security questionnaire answered",
                      "side": "seller", "role": "Solutions Engineer", "duration": 4,
                      "depends_on": ["success_criteria"]})
    proposal = next(m for m in steps if m["key"] == "proposal_accepted")
    proposal["depends_on"], proposal["duration"] = ["security_check"], 8
    template["milestones"] = steps
    return StageMapping.model_validate(data)


NEW = changed(OLD)
OLD_VERSION = template_version(OLD.template("mid_market"))  # type: ignore[arg-type]
NEW_VERSION = template_version(NEW.template("mid_market"))  # type: ignore[arg-type]


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> World:
    return World(emulator, tmp_path, mapping=OLD)


def _with(world: World, mapping: StageMapping) -> Org:
    return Org.build(world.client, world.store, mapping)


def _plan(world: World, opp: str) -> dict[str, Any]:
    return world.query("SELECT Id, Mapping_Version__c, Template__c FROM Mutual_Action_Plan__c "
                       f"WHERE Opportunity__c = '{opp}'")[0]


def _steps(world: World, opp: str) -> dict[str, tuple[Any, ...]]:
    rows = world.query("SELECT Key__c, Sequence__c, Due_Date__c, Status__c FROM "
                       f"MAP_Milestone__c WHERE Plan__r.Opportunity__c = '{opp}'")
    return {r["Key__c"]: (r["Sequence__c"], r["Due_Date__c"], r["Status__c"]) for r in rows}


def _last_change(world: World) -> tuple[Any, Any]:
    return tuple(  # type: ignore[return-value]
        world.query(f"SELECT Id, SystemModstamp FROM {obj} ORDER BY SystemModstamp DESC "
                    "LIMIT 1")[0]["SystemModstamp"]
        for obj in ("Mutual_Action_Plan__c", "MAP_Milestone__c"))


def test_a_plan_records_the_mapping_version_it_was_built_with(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    assert _plan(world, opp)["Mapping_Version__c"] == OLD_VERSION
    assert OLD_VERSION.startswith("mid_market@")
    assert len(OLD_VERSION.split("@")[1]) == 12
    assert NEW_VERSION != OLD_VERSION


def test_cycle_and_reconcile_keep_an_existing_plan_until_the_change_is_applied(
        world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    before = _steps(world, opp)
    new = _with(world, NEW)
    world.edit("Opportunity", opp, StageName="Value Proposition")  # touched: re-planned
    run_cycle(new)
    reconcile(new)
    after = _steps(world, opp)
    assert set(after) == set(before)  # nothing added, nothing removed
    assert {k: (s, d) for k, (s, d, _) in after.items()} == \
        {k: (s, d) for k, (s, d, _) in before.items()}  # nor renumbered or re-dated
    assert after["discovery"][2] == "Done"  # stage progress still moves it
    assert _plan(world, opp)["Mapping_Version__c"] == OLD_VERSION


def test_dry_run_lists_the_changes_per_plan_and_writes_nothing(world: World) -> None:
    opp = world.opportunity(name="Initech – Platform")
    world.cycle()
    before, last = world.snapshot(), _last_change(world)
    result = apply_mapping(_with(world, NEW), dry_run=True)
    assert result.behind == 1
    [plan] = result.plans
    assert plan.opportunity == "Initech – Platform"
    assert plan.added == ("security_check",)
    assert plan.removed == ("solution_validation",)
    assert plan.kept_skipped == ()
    assert set(plan.redated) == {"discovery", "success_criteria"}  # before the longer proposal
    assert world.snapshot() == before
    assert _last_change(world) == last
    assert _plan(world, opp)["Mapping_Version__c"] == OLD_VERSION


def test_apply_adds_removes_renumbers_and_a_following_cycle_changes_nothing(
        world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    new = _with(world, NEW)
    result = apply_mapping(new)
    assert [p.added for p in result.plans] == [("security_check",)]
    steps = _steps(world, opp)
    assert "solution_validation" not in steps
    assert "security_check" in steps
    sequences = [s for s, _, _ in steps.values()]
    assert sorted(sequences) == list(range(1, len(steps) + 1))  # no duplicate, no gap
    assert [k for k, _ in sorted(steps.items(), key=lambda kv: kv[1][0])][:4] == [
        "discovery", "success_criteria", "security_check", "proposal_accepted"]
    assert _plan(world, opp)["Mapping_Version__c"] == NEW_VERSION
    ms = world.milestones(opp)
    for key in result.plans[0].redated:  # a RevOps change re-commits the date: no slip
        assert ms[key]["Baseline_Due_Date__c"] == ms[key]["Due_Date__c"]
        assert ms[key]["Days_Slipped__c"] == 0
    snapshot = world.snapshot()
    world.edit("Opportunity", opp, Amount=51_000)
    report = run_cycle(new)
    assert report.milestones_written == 0
    assert world.snapshot() == snapshot
    assert apply_mapping(new).behind == 0


def test_a_milestone_a_rep_changed_is_kept_as_skipped_not_deleted(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    ms = world.milestones(opp)
    world.edit("MAP_Milestone__c", ms["solution_validation"]["Id"], Name="Demo to the CTO")
    world.cycle()
    result = apply_mapping(_with(world, NEW))
    assert [p.kept_skipped for p in result.plans] == [("solution_validation",)]
    assert [p.removed for p in result.plans] == [()]
    steps = _steps(world, opp)
    assert steps["solution_validation"][2] == "Skipped"
    sequences = [s for s, _, _ in steps.values()]
    assert len(set(sequences)) == len(sequences)
    assert steps["solution_validation"][0] == max(sequences)


def test_a_plan_created_after_the_change_gets_the_new_version(world: World) -> None:
    new = _with(world, NEW)
    opp = world.opportunity()
    run_cycle(new)
    assert _plan(world, opp)["Mapping_Version__c"] == NEW_VERSION
    assert "security_check" in _steps(world, opp)
    assert apply_mapping(new).behind == 0


def test_a_cancelled_plan_keeps_the_milestones_it_ended_with(world: World) -> None:
    opp = world.opportunity()
    world.cycle()
    world.edit("Opportunity", opp, StageName="Closed Lost")
    world.cycle()
    before = _steps(world, opp)
    new = _with(world, NEW)
    assert apply_mapping(new).behind == 0
    assert _steps(world, opp) == before
    assert _plan(world, opp)["Mapping_Version__c"] == OLD_VERSION
