"""The planner's shortcuts answer as the plain computation would.

Drafted plan values are the frozen classes themselves (equal, hashable, unchangeable), and a
template rule reads an Opportunity's field without building its record exactly as it would
from the record, whatever the case of the names and wherever the field lives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.planner.drafts import build_milestone, drafting, reproject
from sync.planner.model import DesiredMilestone, Opportunity
from sync.planner.statics import rule_path, rule_value, value_at

DAY = dt.date(2026, 3, 2)
VALUES = ("m1", "Security review", 3, "Value Proposition", "Buyer", "Security", "Risk", ("m0",),
          DAY, DAY, None, "Not Started", 0, DAY, "003A", None, frozenset({"Name"}), None)


def test_a_drafted_milestone_is_a_frozen_desired_milestone() -> None:
    drafted, built = build_milestone(*VALUES), DesiredMilestone(*VALUES)
    assert type(drafted) is DesiredMilestone
    assert drafted == built
    assert hash(drafted) == hash(built)
    assert repr(drafted) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        drafted.status = "Done"  # type: ignore[misc]
    assert dataclasses.replace(drafted, status="Done").status == "Done"


def test_a_reprojected_milestone_is_the_milestone_built_with_that_date() -> None:
    drafted, later = build_milestone(*VALUES), DAY + dt.timedelta(days=9)
    reproject(drafted, later)
    assert drafted == DesiredMilestone(*VALUES[:13], later, *VALUES[14:])
    assert hash(drafted) == hash(DesiredMilestone(*VALUES[:13], later, *VALUES[14:]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        drafted.projected_date = DAY  # type: ignore[misc]


def test_only_slots_dataclasses_without_post_init_are_drafted() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int

    with pytest.raises(TypeError, match="slots"):
        drafting(Plain)


NAMES = st.sampled_from(("Type", "type", "TYPE", "Amount", "amount", "Region__c",
                         "region__C", "RecordType", "recordtype", "Name", "StageName"))
PATHS = st.sampled_from(("Type", "type", "Amount", "AMOUNT", "Region__c", "region__c",
                         "RecordType.Name", "recordtype.name", "Name", "Id", "CloseDate",
                         "stagename", "Missing", "Type.Name"))
FIELD_VALUES = st.one_of(st.none(), st.text(max_size=3), st.integers(), st.floats(),
                         st.dictionaries(st.sampled_from(("Name", "name", "Id")),
                                         st.text(max_size=3), max_size=2))


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(NAMES, FIELD_VALUES, max_size=5), path=PATHS,
       kind=st.sampled_from(("New Business", None)))
def test_a_rule_reads_the_field_the_record_would_show(fields: dict, path: str,
                                                      kind: str | None) -> None:
    opp = Opportunity(id="006A", name="Deal", stage="Qualification", close_date=DAY,
                      amount=Decimal(150_000), type=kind, fields=fields)
    assert rule_value(opp, *rule_path(path)) is value_at(opp.rule_fields(), path)
