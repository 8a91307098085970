"""A small valid mapping, as plain data, that each test breaks in one way."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from mappings.loader import MappingReport, load_mapping_text_report

BASE: dict[str, Any] = {
    "version": 1,
    "stages": ["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won",
               "Closed Lost"],
    "create_at": "Qualification",
    "closed_won": "Closed Won",
    "closed_lost": "Closed Lost",
    "templates": [
        {
            "name": "enterprise",
            "when": [{"field": "Amount", "gte": 100000}],
            "milestones": [
                {"key": "discovery", "name": "Discovery", "side": "joint", "role": "Champion",
                 "stage": "Qualification", "duration": 5},
                {"key": "legal", "name": "Legal", "side": "buyer", "role": "Legal",
                 "duration": 10, "depends_on": ["discovery"]},
                {"key": "procurement", "name": "Procurement", "side": "buyer",
                 "role": "Procurement", "duration": 5, "depends_on": ["discovery"]},
                {"key": "signature", "name": "Signature", "side": "buyer",
                 "role": "Economic Buyer", "stage": "Negotiation", "duration": 2,
                 "depends_on": ["legal", "procurement"]},
                {"key": "go_live", "name": "Go-live", "side": "joint",
                 "role": "Customer Success Manager", "duration": 20,
                 "depends_on": ["signature"], "anchor": "after_close", "go_live": True},
            ],
        },
        {
            "name": "mid_market",
            "milestones": [
                {"key": "discovery", "name": "Discovery", "side": "Seller",
                 "role": "Account Executive", "duration": 3},
                {"key": "go_live", "name": "Go-live", "side": "Joint", "role": "CSM",
                 "duration": 10, "depends_on": ["discovery"], "anchor": "after_close",
                 "go_live": True},
            ],
        },
    ],
    "default_template": "mid_market",
    "calendar": {"holidays_country": "US", "holidays": ["2026-12-24"]},
    "health": {"at_risk_days": 3, "off_track_days": 10},
}


def sample() -> dict[str, Any]:
    """A fresh deep copy of :data:`BASE`."""
    return copy.deepcopy(BASE)


def report_after(change: Callable[[dict[str, Any]], object]) -> MappingReport:
    """Load the sample mapping after ``change`` mutated it."""
    data = sample()
    change(data)
    return load_mapping_text_report(yaml.safe_dump(data, sort_keys=False))


def milestone(data: dict[str, Any], template: int, index: int) -> dict[str, Any]:
    result: dict[str, Any] = data["templates"][template]["milestones"][index]
    return result
