"""Each kind of broken mapping is reported with its location, in words RevOps can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from mappings.loader import load_mapping_text
from mappings.validate import validate_mapping
from tests.mappings.sample import milestone, report_after, sample

Change = Callable[[dict[str, Any]], object]


def put(*path: str | int, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def drop(*path: str | int) -> Change:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


M = ("templates", 0, "milestones")  # the enterprise template's milestones


def _cycle(data: dict[str, Any]) -> None:
    milestone(data, 0, 1)["depends_on"] = ["procurement"]
    milestone(data, 0, 2)["depends_on"] = ["legal"]


CASES: list[tuple[str, Change, list[str]]] = [
    (
        "unknown milestone stage",
        put(*M, 3, "stage", value="Negotation"),
        ["templates[0].milestones[3].stage: unknown stage 'Negotation', not one of stages "
         "(did you mean 'Negotiation'?)"],
    ),
    (
        "duplicate milestone key",
        put(*M, 2, "key", value="legal"),
        ["templates[0].milestones[2].key: duplicate key 'legal' (also milestones[1])",
         "templates[0].milestones[3].depends_on: unknown milestone 'procurement'"],
    ),
    (
        "dependency on a missing key",
        put(*M, 3, "depends_on", value=["legal", "procurment"]),
        ["templates[0].milestones[3].depends_on: unknown milestone 'procurment' "
         "(did you mean 'procurement'?)"],
    ),
    (
        "dependency cycle",
        _cycle,
        ["templates[0] (enterprise): dependency cycle legal -> procurement -> legal"],
    ),
    (
        "self dependency",
        put(*M, 0, "depends_on", value=["discovery"]),
        ["templates[0] (enterprise): dependency cycle discovery -> discovery"],
    ),
    (
        "before close depends on after close",
        put(*M, 3, "depends_on", value=["legal", "go_live"]),
        ["templates[0] (enterprise): dependency cycle signature -> go_live -> signature",
         "templates[0].milestones[3].depends_on: signature is before close but depends on "
         "go_live, which is after close (it would have to finish before close but start "
         "after it)"],
    ),
    (
        "side written in any case, but not misspelled",
        put(*M, 1, "side", value="buyr"),
        ["templates[0].milestones[1].side: must be one of buyer, seller, joint"],
    ),
    (
        "anchor misspelled",
        put(*M, 4, "anchor", value="after"),
        ["templates[0].milestones[4].anchor: must be one of before_close, after_close"],
    ),
    (
        "impossible holiday date",
        put("calendar", "holidays", value=["2026-02-30"]),
        ["calendar.holidays[0]: '2026-02-30' is not a valid date (day is out of range for "
         "month)"],
    ),
    (
        "holiday date not written YYYY-MM-DD",
        put("calendar", "holidays", value=["12/24/2026"]),
        ["calendar.holidays[0]: '12/24/2026' is not a date written YYYY-MM-DD"],
    ),
    (
        "unknown holiday country",
        put("calendar", "holidays_country", value="XX"),
        ["calendar.holidays_country: unknown country 'XX' for the holidays package "
         "(ISO 3166 codes such as US, GB, DE)"],
    ),
    (
        "unknown holiday subdivision",
        put("calendar", "holidays_subdivision", value="ZZ"),
        ["calendar.holidays_subdivision: 'ZZ' is not a subdivision of US (known: AK, AL, AR, "
         "AS, AZ, CA, CO, CT, ...)"],
    ),
    (
        "create_at not in stages",
        put("create_at", value="Qualified"),
        ["create_at: 'Qualified' is not one of stages (did you mean 'Qualification'?)"],
    ),
    (
        "closed_won not in stages",
        put("closed_won", value="Won"),
        ["closed_won: 'Won' is not one of stages"],
    ),
    (
        "closed_lost not in stages",
        put("closed_lost", value="Lost"),
        ["closed_lost: 'Lost' is not one of stages"],
    ),
    (
        "plan created at a closed stage",
        put("create_at", value="Closed Won"),
        ["create_at: a plan cannot be created at a closed stage"],
    ),
    (
        "same stage for won and lost",
        put("closed_lost", value="Closed Won"),
        ["closed_lost: must be a different stage from closed_won"],
    ),
    (
        "stage listed twice",
        put("stages", value=["Prospecting", "Qualification", "Proposal", "Negotiation",
                             "qualification", "Closed Won", "Closed Lost"]),
        ["stages[4]: 'qualification' is listed twice (also stages[1])"],
    ),
    (
        "default template not defined",
        put("default_template", value="smb"),
        ["default_template: no template named 'smb'"],
    ),
    (
        "duplicate template names",
        put("templates", 1, "name", value="enterprise"),
        ["templates[1].name: duplicate template name 'enterprise' (also templates[0])",
         "default_template: no template named 'mid_market'"],
    ),
    (
        "empty rule condition",
        put("templates", 0, "when", value=[{}]),
        ["templates[0].when[0]: empty condition: write field: <Opportunity field> and one "
         "comparison (equals, not_equals, in, not_in, gte, gt, lte, lt)"],
    ),
    (
        "rule condition without a comparison",
        put("templates", 0, "when", value=[{"field": "Amount"}]),
        ["templates[0].when[0]: condition on Amount has no comparison: give one of equals, "
         "not_equals, in, not_in, gte, gt, lte, lt"],
    ),
    (
        "rule condition with two comparisons",
        put("templates", 0, "when", value=[{"field": "Amount", "gte": 1, "lt": 5}]),
        ["templates[0].when[0]: condition on Amount has 2 comparisons (gte, lt): give one per "
         "condition (write a range as two conditions on the same field)"],
    ),
    (
        "rule condition written as field: comparison",
        put("templates", 0, "when", value=[{"Amount": {"gte": 1}}]),
        ["templates[0].when[0]: a condition is written field: <Opportunity field> plus one "
         "comparison, e.g. {field: Amount, gte: 100000}"],
    ),
    (
        "rule threshold that is not a number",
        put("templates", 0, "when", value=[{"field": "Amount", "gte": "100k"}]),
        ["templates[0].when[0].gte: must be a number (got '100k')"],
    ),
    (
        "rule value that is neither a checkbox, text nor number",
        put("templates", 0, "when", value=[{"field": "Type", "equals": ["a"]}]),
        ["templates[0].when[0].equals: must be true or false, text or a number (got list)"],
    ),
    (
        "misspelled milestone field",
        put(*M, 1, "depend_on", value=["discovery"]),
        ["templates[0].milestones[1].depend_on: unknown field (did you mean depends_on?)"],
    ),
    (
        "task side misspelt",
        put("tasks", value={"sides": ["seller", "sellers"]}),
        ["tasks.sides: 'sellers' is not a side: must be one of buyer, seller, joint"],
    ),
    (
        "task side twice, in a template",
        put("templates", 0, "tasks", value={"sides": ["Seller", "seller"]}),
        ["templates[0].tasks.sides: seller listed more than once"],
    ),
    (
        "task reminder out of range",
        put("tasks", value={"reminder_days_before": 45}),
        ["tasks.reminder_days_before: must be at most 30 (got 45)"],
    ),
    (
        "unknown task setting",
        put("tasks", value={"reminder": 2}),
        ["tasks.reminder: unknown field (allowed: sides, reminder_days_before)"],
    ),
    (
        "unknown top-level setting",
        put("timezone", value="UTC"),
        ["timezone: unknown field (allowed: version, stages, create_at, closed_won, "
         "closed_lost, templates, default_template, calendar, health, tasks)"],
    ),
    (
        "missing role",
        drop(*M, 2, "role"),
        ["templates[0].milestones[2].role: required"],
    ),
    (
        "key not lower_snake_case",
        put(*M, 0, "key", value="Discovery Call"),
        ["templates[0].milestones[0].key: must be lower_snake_case: a lowercase letter, then "
         "lowercase letters, digits or _ (got 'Discovery Call')",
         "templates[0].milestones[1].depends_on: unknown milestone 'discovery' "
         "(did you mean 'Discovery Call'?)",
         "templates[0].milestones[2].depends_on: unknown milestone 'discovery' "
         "(did you mean 'Discovery Call'?)"],
    ),
    (
        "negative duration",
        put(*M, 0, "duration", value=-2),
        ["templates[0].milestones[0].duration: must be at least 0 (got -2)"],
    ),
    (
        "duration with a fraction",
        put(*M, 0, "duration", value=2.5),
        ["templates[0].milestones[0].duration: must be a whole number (got 2.5)"],
    ),
    (
        "template without milestones",
        put("templates", 1, "milestones", value=[]),
        ["templates[1].milestones: must list at least 1 item(s)"],
    ),
    (
        "milestone that is not a mapping",
        put(*M, 4, value="go live"),
        ["templates[0].milestones[4]: must be a mapping of fields (key: value lines) "
         "(got 'go live')"],
    ),
    (
        "two go-live milestones",
        put(*M, 3, "go_live", value=True),
        ["templates[0] (enterprise): 2 milestones are marked go_live (signature, go_live); "
         "mark only the go-live itself",
         "templates[0].milestones[3].go_live: the go-live milestone must be after_close"],
    ),
    (
        "off track before at risk",
        put("health", "off_track_days", value=1),
        ["health.off_track_days: must be at least at_risk_days (3), got 1"],
    ),
    (
        "a plan stale before a day has passed",
        put("health", "stale_after_days", value=0),
        ["health.stale_after_days: must be at least 1 (got 0)"],
    ),
    (
        "missing version",
        drop("version"),
        ["version: required"],
    ),
]


def test_the_sample_mapping_is_valid() -> None:
    report = report_after(lambda data: None)
    assert (report.errors, report.warnings) == ([], [])
    assert report.mapping is not None


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_mapping_is_reported_with_its_location(change: Change, expected: list[str]) -> None:
    report = report_after(change)
    assert report.errors == expected
    assert report.mapping is None


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    def break_many(data: dict[str, Any]) -> None:
        milestone(data, 0, 1)["side"] = "vendor"  # schema
        milestone(data, 0, 3)["stage"] = "Contracting"  # unknown stage
        _cycle(data)  # cycle
        data["default_template"] = "smb"  # undefined default
        data["calendar"]["holidays_country"] = "XX"  # unknown country

    report = report_after(break_many)
    assert report.errors == [  # in the order of the file, whichever pass found them
        "templates[0] (enterprise): dependency cycle legal -> procurement -> legal",
        "templates[0].milestones[1].side: must be one of buyer, seller, joint",
        "templates[0].milestones[3].stage: unknown stage 'Contracting', not one of stages",
        "default_template: no template named 'smb'",
        "calendar.holidays_country: unknown country 'XX' for the holidays package "
        "(ISO 3166 codes such as US, GB, DE)",
    ]


def test_side_and_anchor_are_read_in_any_case() -> None:
    def shout(data: dict[str, Any]) -> None:
        milestone(data, 0, 0)["side"] = "BUYER"
        milestone(data, 0, 1)["side"] = "Seller"
        milestone(data, 0, 4)["anchor"] = "After_Close"

    report = report_after(shout)
    assert report.errors == []
    assert report.mapping is not None
    sides = [m.side.value for m in report.mapping.templates[0].milestones]
    assert sides[:2] == ["Buyer", "Seller"]
    assert report.mapping.templates[0].milestones[4].after_close


def test_an_unknown_opportunity_field_in_a_rule_is_fine() -> None:
    report = report_after(
        put("templates", 0, "when", value=[{"field": "Region__c", "in": ["EMEA", "APAC"]}])
    )
    assert report.errors == []


def test_more_than_thirty_milestones_is_a_warning_not_an_error() -> None:
    def lengthen(data: dict[str, Any]) -> None:
        steps = data["templates"][1]["milestones"]
        for n in range(30):
            steps.append({"key": f"step_{n}", "name": f"Step {n}", "side": "seller",
                          "role": "Account Executive", "duration": 1})

    report = report_after(lengthen)
    assert report.errors == []
    assert report.mapping is not None
    assert report.warnings == [
        "templates[1] (mid_market): 32 milestones; plans longer than 30 steps stop helping "
        "(aim for 5-12)"
    ]


def test_thirty_milestones_is_still_fine() -> None:
    def lengthen(data: dict[str, Any]) -> None:
        steps = data["templates"][1]["milestones"]
        for n in range(28):
            steps.append({"key": f"step_{n}", "name": f"Step {n}", "side": "seller",
                          "role": "Account Executive", "duration": 1})

    assert report_after(lengthen).warnings == []


def test_a_plan_ending_at_the_signature_is_warned_about() -> None:
    def end_at_signature(data: dict[str, Any]) -> None:
        milestone(data, 1, 1).update(anchor="before_close", go_live=False)

    report = report_after(end_at_signature)
    assert report.errors == []
    assert report.warnings == [
        "templates[1] (mid_market): the plan ends at the signature; end it with the buyer's "
        "value (go-live, ROI review) anchored after_close"
    ]


def test_a_mapping_built_in_code_gets_the_same_cross_checks() -> None:
    mapping = load_mapping_text(yaml.safe_dump(sample()))
    templates = list(mapping.templates)
    steps = list(templates[0].milestones)
    steps[1] = steps[1].model_copy(update={"depends_on": ["procurement"]})
    steps[2] = steps[2].model_copy(update={"depends_on": ["legal"]})
    templates[0] = templates[0].model_copy(update={"milestones": steps})
    broken = mapping.model_copy(update={"templates": templates})
    findings = validate_mapping(broken)
    assert findings.errors == [
        "templates[0] (enterprise): dependency cycle legal -> procurement -> legal"
    ]
    assert validate_mapping(mapping).errors == []


def test_a_milestone_of_a_stage_before_plans_exist_is_warned_about() -> None:
    report = report_after(put(*M, 0, "stage", value="Prospecting"))
    assert report.errors == []
    assert report.warnings == [
        "templates[0].milestones[0].stage: 'Prospecting' comes before create_at "
        "'Qualification', so discovery is already done when the plan is created"
    ]


def test_a_milestone_completed_before_one_it_waits_on_is_warned_about() -> None:
    def out_of_order(data: dict[str, Any]) -> None:
        milestone(data, 0, 0)["stage"] = "Negotiation"
        milestone(data, 0, 1)["stage"] = "Proposal"

    report = report_after(out_of_order)
    assert report.errors == []
    assert report.warnings == [
        "templates[0].milestones[1].stage: legal completes at 'Proposal', before discovery "
        "it depends on (completes at 'Negotiation')"
    ]


def test_closed_lost_completes_no_milestone() -> None:
    assert report_after(put(*M, 3, "stage", value="closed lost")).errors == [
        "templates[0].milestones[3].stage: 'closed lost' is the closed_lost stage and "
        "completes nothing"
    ]
