"""What a template says about each milestone, prepared once per template, and how a template
rule reads an Opportunity's field: the planner's compiled view of the mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MilestoneStatic:
    """What a template says about a milestone, prepared once."""

    key: str
    name: str
    stage: str | None
    stage_index: int | None
    side: str
    role: str
    role_folded: str
    why: str
    depends_on: tuple[str, ...]
    before_close: bool
    go_live: bool
    names_contact: bool  # buyer or joint side: the owner contact comes from contact roles
    seller: bool  # seller side: the owner user is the Opportunity's owner


def value_at(record: Mapping[str, object], path: str) -> object:
    """The value a template rule reads at ``path``: the mapping's own walk (the first key
    equal ignoring case, level by level), so equal keys mean equal answers."""
    value: object = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        folded = part.casefold()
        value = next((v for k, v in value.items() if k.casefold() == folded), None)
    return value
