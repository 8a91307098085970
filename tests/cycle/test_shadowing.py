"""The shadow keeps only what decisions read back, and they read it as before: a rep's edit
of a name or why-it-matters is told by its digest alone, dates and status verbatim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.cycle.shadowing import shadow_of
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT
from sync.planner.model import MilestoneState, PlanState
from sync.planner.progress import done_before_tracking
from sync.store import ShadowWrite, Store
from sync.store.compact import Digest

ORG = "00D000000000001AAA"
KEY = "006000000000001AAA:kickoff"
WRITTEN: dict[str, Any] = {  # what a cycle wrote to a milestone, in wire form
    "Name": "Kickoff", "Key__c": "kickoff", "Sequence__c": 1.0, "Stage__c": "Qualification",
    "Owner_Side__c": "Joint", "Owner_Role__c": "Champion", "Owner_Contact__c": None,
    "Owner_User__c": None, "Baseline_Due_Date__c": "2026-03-02", "Due_Date__c": "2026-03-02",
    "Completed_Date__c": None, "Status__c": "Done", "Days_Slipped__c": 0.0,
    "Depends_On__c": None, "Why_It_Matters__c": "Aligns both teams on the plan " * 8,
    "Notes__c": None,
}
SALESFORCE = {**WRITTEN, "Id": "a01000000000001AAA", "Key__c": "kickoff",
              "Due_Date__c": "2026-03-02"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'mapsync.db'}") as opened:
        yield opened


def _read_back(store: Store, sobject: str, written: dict[str, Any]) -> dict[str, Any]:
    with store.transaction() as tx:
        tx.put_shadows(ORG, sobject, [ShadowWrite(KEY, None, shadow_of(sobject, written))])
    with store.transaction(write=False) as tx:
        return tx.shadow(ORG, sobject, [KEY])[KEY].fields


def test_a_milestone_keeps_status_and_dates_verbatim_name_and_why_as_digests(
        store: Store) -> None:
    kept = _read_back(store, MILESTONE_OBJECT, WRITTEN)
    assert kept == {"Status__c": "Done", "Completed_Date__c": None, "Due_Date__c": "2026-03-02",
                    "Baseline_Due_Date__c": "2026-03-02", "Name": Digest.of("Kickoff"),
                    "Why_It_Matters__c": Digest.of(WRITTEN["Why_It_Matters__c"])}
    assert all(type(v) is not str or len(v) < 20 for v in kept.values())  # no long text kept


def test_a_plan_keeps_its_template_and_a_rollup_only_that_it_was_written(store: Store) -> None:
    plan = _read_back(store, PLAN_OBJECT, {"Name": "MAP: Initech", "Template__c": "new_business",
                                           "Summary__c": "long " * 50, "Status__c": "Active"})
    assert plan == {"Template__c": "new_business"}
    assert PlanState.from_records({"Template__c": "typed over"}, plan, []).own_template == \
        "new_business"
    assert _read_back(store, OPPORTUNITY, {"MAP_Health__c": "On Track"}) == {}


@pytest.mark.parametrize(("field", "rep_value"), [
    ("Name", "Kick-off with Legal"),
    ("Why_It_Matters__c", "Because the CFO said so"),
    ("Status__c", "Blocked"),
    ("Due_Date__c", "2026-03-20"),
])
def test_a_reps_edit_is_told_from_the_compact_shadow_alone(
        store: Store, field: str, rep_value: str) -> None:
    written = _read_back(store, MILESTONE_OBJECT, WRITTEN)
    unchanged = MilestoneState.from_record(SALESFORCE, written)
    assert unchanged.pinned_fields() == frozenset()
    edited = MilestoneState.from_record({**SALESFORCE, field: rep_value}, written)
    assert edited.pinned_fields() == {field}


def test_day_one_and_the_baseline_read_the_kept_values(store: Store) -> None:
    written = _read_back(store, MILESTONE_OBJECT, WRITTEN)
    state = MilestoneState.from_record(SALESFORCE, written)
    assert done_before_tracking(state)  # written Done with no completed date
    assert state.written["Baseline_Due_Date__c"] == dt.date(2026, 3, 2).isoformat()
