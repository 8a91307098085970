"""Which template an Opportunity gets: rules in file order, first match wins, else the default."""

from __future__ import annotations

from typing import Any

import pytest

from mappings.loader import load_mapping_text

MAPPING = """
version: 1
stages: [Qualification, Negotiation, Closed Won, Closed Lost]
create_at: Qualification
closed_won: Closed Won
closed_lost: Closed Lost
templates:
  - name: renewal
    when:
      - {field: Type, equals: Existing Business}
  - name: strategic
    when:
      - {field: Amount, gte: 500000}
  - name: enterprise
    when:
      - {field: Amount, gte: 100000}
      - {field: Amount, lt: 500000}
  - name: partner
    when:
      - {field: RecordType.Name, in: [Partner Deal, Reseller]}
  - name: partner_flag
    when:
      - {field: Is_Partner__c, equals: true}
  - name: not_new
    when:
      - {field: Type, not_equals: New Customer}
      - {field: LeadSource, not_in: [Web, Phone Inquiry]}
  - name: mid_market
default_template: mid_market
"""
STEP = """
    milestones:
      - {key: go_live, name: Go-live, side: joint, role: CSM, anchor: after_close, go_live: true}
"""


def with_steps(text: str) -> str:
    """Give every template the same single milestone; only the rules differ here."""
    return text.replace("    when:", STEP.strip("\n") + "\n    when:").replace(
        "  - name: mid_market\n", "  - name: mid_market\n" + STEP.lstrip("\n"))


@pytest.fixture(scope="module")
def choose() -> Any:
    mapping = load_mapping_text(with_steps(MAPPING))

    def name_for(opportunity: dict[str, Any]) -> str | None:
        template = mapping.select_template(opportunity)
        return template.name if template else None

    return name_for


@pytest.mark.parametrize(
    ("opportunity", "template"),
    [
        ({"Type": "Existing Business", "Amount": 900000}, "renewal"),  # first match wins
        ({"Type": "existing business"}, "renewal"),  # text ignores case
        ({"Type": "New Customer", "Amount": 500000}, "strategic"),  # bound is inclusive
        ({"Type": "New Customer", "Amount": 499999.99}, "enterprise"),  # inside the range
        ({"Type": "New Customer", "Amount": 100000.0}, "enterprise"),
        ({"Type": "New Customer", "Amount": "250000"}, "enterprise"),  # numeric text compares
        ({"Type": "New Customer", "Amount": 99999}, "mid_market"),  # below every range
        ({"Type": "New Customer", "Amount": None}, "mid_market"),  # missing never matches a number
        ({"Type": "New Customer"}, "mid_market"),
        ({"Type": "New Customer", "RecordType": {"Name": "reseller"}}, "partner"),
        ({"Type": "New Customer", "RecordType": None}, "mid_market"),
        ({"Type": "Upgrade", "LeadSource": "Partner"}, "not_new"),
        ({"Type": "Upgrade", "LeadSource": "web"}, "mid_market"),
        ({"LeadSource": "Partner"}, "not_new"),  # a missing field is not equal to anything
        ({"type": "EXISTING BUSINESS"}, "renewal"),  # field names ignore case too
        ({"Type": "New Customer", "Amount": True}, "mid_market"),  # a checkbox is no number
        ({"Type": "New Customer", "Is_Partner__c": True}, "partner_flag"),  # checkbox rule
        ({"Type": "New Customer", "Is_Partner__c": 1}, "mid_market"),
        ({"Type": "New Customer", "Is_Partner__c": "true"}, "mid_market"),
    ],
)
def test_template_for_opportunity(
    choose: Any, opportunity: dict[str, Any], template: str
) -> None:
    assert choose(opportunity) == template


def test_without_a_default_an_unmatched_opportunity_gets_no_plan() -> None:
    mapping = load_mapping_text(with_steps(MAPPING.replace("default_template: mid_market\n", "")))
    assert mapping.select_template({"Type": "New Customer", "Amount": 10}) is None
    assert mapping.select_template({"Amount": 200000}) is not None
