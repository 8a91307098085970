"""A mapping's stages compared with the org's Stage picklist."""

from __future__ import annotations

from mappings.check import StageComparison, compare_stages
from mappings.loader import default_mapping_path, load_mapping

STANDARD = [
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
    "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
    "Negotiation/Review", "Closed Won", "Closed Lost",
]


def test_an_org_with_the_standard_stages_matches_the_default_mapping() -> None:
    comparison = compare_stages(load_mapping(default_mapping_path()), list(STANDARD))
    assert comparison == StageComparison([], [], [])
    assert comparison.matches
    assert comparison.problems() == []


def test_renamed_and_added_org_stages_are_reported_on_both_sides() -> None:
    org = [s.replace("Negotiation/Review", "Contracting") for s in STANDARD]
    org.insert(8, "Verbal Commit")
    comparison = compare_stages(load_mapping(default_mapping_path()), org)
    assert comparison.missing_in_org == ["Negotiation/Review"]
    assert comparison.ignored_by_mapping == ["Contracting", "Verbal Commit"]
    assert comparison.out_of_order == []
    assert not comparison.matches
    assert comparison.problems() == [
        "stage 'Negotiation/Review' is in the mapping but not in the org's Stage picklist",
        "the org's stage 'Contracting' is not in the mapping's stages; Opportunities in it get "
        "no stage-driven progress",
        "the org's stage 'Verbal Commit' is not in the mapping's stages; Opportunities in it "
        "get no stage-driven progress",
    ]


def test_stage_names_compare_ignoring_case() -> None:
    org = [s.upper() for s in STANDARD]
    assert compare_stages(load_mapping(default_mapping_path()), org).matches


def test_shared_stages_in_another_order_are_reported() -> None:
    org = list(STANDARD)
    org[2], org[3] = org[3], org[2]
    comparison = compare_stages(load_mapping(default_mapping_path()), org)
    assert (comparison.missing_in_org, comparison.ignored_by_mapping) == ([], [])
    assert comparison.out_of_order == ["Needs Analysis", "Value Proposition"]
