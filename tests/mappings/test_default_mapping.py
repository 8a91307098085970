"""The mapping shipped with mapsync is valid and is a good plan, by the MAP practice."""

from __future__ import annotations

import pytest

from mappings.graph import topological_order
from mappings.loader import default_mapping_path, load_mapping_report
from mappings.model import Side, StageMapping

STANDARD_STAGES = [
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
    "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
    "Negotiation/Review", "Closed Won", "Closed Lost",
]


@pytest.fixture(scope="module")
def mapping() -> StageMapping:
    report = load_mapping_report(default_mapping_path())
    assert (report.errors, report.warnings) == ([], [])
    assert report.mapping is not None
    return report.mapping


def test_default_mapping_assumes_salesforces_standard_stages_in_order(
    mapping: StageMapping,
) -> None:
    assert mapping.stages == STANDARD_STAGES
    assert (mapping.create_at, mapping.closed_won, mapping.closed_lost) == (
        "Qualification", "Closed Won", "Closed Lost")


def test_enterprise_has_8_to_12_milestones_and_mid_market_5_to_8(mapping: StageMapping) -> None:
    enterprise, mid_market = mapping.template("enterprise"), mapping.template("mid_market")
    assert enterprise is not None
    assert mid_market is not None
    assert 8 <= len(enterprise.milestones) <= 12
    assert 5 <= len(mid_market.milestones) <= 8
    assert mapping.default_template == "mid_market"


@pytest.mark.parametrize("name", ["enterprise", "mid_market"])
def test_every_plan_ends_with_the_buyers_value_after_close(
    mapping: StageMapping, name: str
) -> None:
    template = mapping.template(name)
    assert template is not None
    order = topological_order({m.key: m.depends_on for m in template.milestones})
    last = template.milestone(order[-1])
    assert last is not None
    assert last.after_close
    assert template.milestones[-1].after_close
    live = [m for m in template.milestones if m.go_live]
    assert len(live) == 1
    assert live[0].after_close
    signature = template.milestone("signature")
    assert signature is not None
    assert not signature.after_close


@pytest.mark.parametrize("name", ["enterprise", "mid_market"])
def test_every_milestone_says_why_and_both_sides_own_steps(
    mapping: StageMapping, name: str
) -> None:
    template = mapping.template(name)
    assert template is not None
    assert all(m.why.strip() and m.role.strip() and m.duration > 0 for m in template.milestones)
    assert {Side.BUYER, Side.SELLER, Side.JOINT} == {m.side for m in template.milestones}


def test_no_milestone_is_completed_by_an_earlier_stage_than_one_it_depends_on(
    mapping: StageMapping,
) -> None:
    for template in mapping.templates:
        for m in template.milestones:
            for key in m.depends_on:
                dep = template.milestone(key)
                assert dep is not None
                if m.stage and dep.stage:
                    assert mapping.stage_index(dep.stage) <= mapping.stage_index(m.stage), (  # type: ignore[operator]
                        template.name, m.key, key)


def test_big_deals_get_enterprise_and_the_rest_mid_market(mapping: StageMapping) -> None:
    def chosen(opportunity: dict[str, object]) -> str | None:
        template = mapping.select_template(opportunity)
        return template.name if template else None

    assert chosen({"Amount": 250000.0, "Type": "New Customer"}) == "enterprise"
    assert chosen({"Amount": 100000}) == "enterprise"
    assert chosen({"Amount": 99999.99}) == "mid_market"
    assert chosen({"Amount": None}) == "mid_market"


def test_default_calendar_skips_weekends_and_us_holidays(mapping: StageMapping) -> None:
    assert mapping.calendar.skip_weekends
    assert mapping.calendar.holidays_country == "US"
    assert mapping.health.at_risk_days <= mapping.health.off_track_days


def test_default_mapping_calls_a_plan_stale_after_three_business_weeks(
        mapping: StageMapping) -> None:
    assert mapping.health.stale_after_days == 15
