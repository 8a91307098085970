"""Stage mappings built in code for planner tests and the planner benchmark.

``small_mapping`` is a six-step plan whose dates are easy to check by hand (weekends only, no
public holidays); ``sample_mapping`` resembles what RevOps ship: Salesforce's standard stages,
an enterprise template chosen by amount and a mid-market default, on a US holiday calendar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mappings.model import StageMapping

STAGES = [
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
    "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
    "Negotiation/Review", "Closed Won", "Closed Lost",
]


def _m(key: str, side: str, role: str, duration: int, deps: list[str], **extra: Any) -> dict:
    return {"key": key, "name": key.replace("_", " ").capitalize(), "side": side,
            "role": role, "duration": duration, "depends_on": deps,
            "why": f"{key} matters", **extra}


SMALL_MILESTONES = [
    _m("discovery", "Seller", "Account Executive", 2, [], stage="Qualification"),
    _m("security", "Buyer", "Security", 5, ["discovery"], stage="Value Proposition"),
    _m("legal", "Buyer", "Legal", 3, ["discovery"]),
    _m("signature", "Joint", "Economic Buyer", 1, ["security", "legal"],
       stage="Negotiation/Review"),
    _m("kickoff", "Seller", "Customer Success Manager", 5, ["signature"], anchor="after_close"),
    _m("go_live", "Buyer", "Champion", 20, ["kickoff"], anchor="after_close", go_live=True),
]


def small_mapping(holidays: list[dt.date] | None = None, **health: int) -> StageMapping:
    return StageMapping.model_validate({
        "version": 1,
        "stages": STAGES,
        "create_at": "Qualification",
        "closed_won": "Closed Won",
        "closed_lost": "Closed Lost",
        "templates": [{
            "name": "small", "summary": "Why we are here", "success_criteria": "Live by Q3",
            "milestones": SMALL_MILESTONES,
        }],
        "default_template": "small",
        "calendar": {"skip_weekends": True, "holidays": holidays or []},
        # slip tests plan months later without progress: staleness has tests of its own
        "health": {"stale_after_days": 10_000,
                   **(health or {"at_risk_days": 1, "off_track_days": 10})},
    })


ENTERPRISE = [
    _m("discovery", "Seller", "Account Executive", 5, [], stage="Qualification"),
    _m("success_criteria", "Joint", "Champion", 5, ["discovery"], stage="Needs Analysis"),
    _m("technical_validation", "Seller", "Solutions Engineer", 10, ["success_criteria"],
       stage="Value Proposition"),
    _m("security_review", "Buyer", "Security", 15, ["technical_validation"]),
    _m("business_case", "Buyer", "Economic Buyer", 5, ["success_criteria"],
       stage="Perception Analysis"),
    _m("legal_review", "Buyer", "Legal", 10, ["business_case"]),
    _m("procurement", "Buyer", "Procurement", 5, ["legal_review", "security_review"],
       stage="Proposal/Price Quote"),
    _m("signature", "Joint", "Economic Buyer", 2, ["procurement"], stage="Negotiation/Review"),
    _m("kickoff", "Seller", "Customer Success Manager", 5, ["signature"], anchor="after_close"),
    _m("go_live", "Buyer", "Champion", 30, ["kickoff"], anchor="after_close", go_live=True),
    _m("roi_review", "Joint", "Economic Buyer", 60, ["go_live"], anchor="after_close"),
]

MID_MARKET = [
    _m("discovery", "Seller", "Account Executive", 3, [], stage="Qualification"),
    _m("demo", "Seller", "Solutions Engineer", 5, ["discovery"], stage="Value Proposition"),
    _m("business_case", "Buyer", "Champion", 5, ["demo"], stage="Proposal/Price Quote"),
    _m("signature", "Joint", "Economic Buyer", 3, ["business_case"], stage="Negotiation/Review"),
    _m("kickoff", "Seller", "Customer Success Manager", 5, ["signature"], anchor="after_close"),
    _m("go_live", "Buyer", "Champion", 20, ["kickoff"], anchor="after_close", go_live=True),
]


def sample_mapping() -> StageMapping:
    return StageMapping.model_validate({
        "version": 1,
        "stages": STAGES,
        "create_at": "Qualification",
        "closed_won": "Closed Won",
        "closed_lost": "Closed Lost",
        "templates": [
            {"name": "enterprise", "when": [{"field": "Amount", "gte": 100000}],
             "summary": "Enterprise rollout", "milestones": ENTERPRISE},
            {"name": "mid_market", "milestones": MID_MARKET},
        ],
        "default_template": "mid_market",
        "calendar": {"skip_weekends": True, "holidays_country": "US"},
        "health": {"at_risk_days": 1, "off_track_days": 10},
    })
