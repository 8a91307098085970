"""What a template says about each milestone, prepared once per template, and how a template
rule reads an Opportunity's field: the planner's compiled view of the mapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mappings.model import Anchor, Side, Template
from sync.planner.model import Opportunity
from sync.planner.progress import StageProgress


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


def compiled(template: Template, stage_index: Mapping[str, int]) -> tuple[MilestoneStatic, ...]:
    """Each milestone of ``template`` as the planner reads it (``stage_index``: by the stage
    casefolded, its place in the mapping's stage order)."""
    names = {m.key: m.name for m in template.milestones}
    return tuple(
        MilestoneStatic(
            key=m.key, name=m.name,
            stage=m.stage,
            stage_index=stage_index.get(m.stage.casefold()) if m.stage else None,
            side=str(m.side), role=m.role, role_folded=m.role.casefold(), why=m.why,
            depends_on=tuple(names.get(k, k) for k in m.depends_on),  # for reps
            before_close=m.anchor is Anchor.BEFORE_CLOSE, go_live=m.go_live,
            names_contact=m.side in (Side.BUYER, Side.JOINT),
            seller=m.side is Side.SELLER,
        )
        for m in template.milestones
    )


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


# Template rules read the Opportunity as ``Opportunity.rule_fields()`` has it: its standard
# fields first (a field of the same name in ``fields`` replaces the value, not the place),
# then the other fields. By API name casefolded: the name and the attribute holding it.
_STANDARD = {"id": ("Id", "id"), "name": ("Name", "name"), "stagename": ("StageName", "stage"),
             "closedate": ("CloseDate", "close_date"), "amount": ("Amount", "amount"),
             "type": ("Type", "type")}


def rule_path(path: str) -> tuple[str, str | None]:
    """A rule's field path prepared for :func:`rule_value`: its first name casefolded, and
    the rest of the path (``None`` for a field of the Opportunity itself)."""
    first, dot, rest = path.partition(".")
    return first.casefold(), rest if dot else None


def rule_value(opportunity: Opportunity, first: str, rest: str | None) -> object:
    """``value_at(opportunity.rule_fields(), path)`` for a path prepared by :func:`rule_path`,
    without building the record."""
    fields = opportunity.fields
    standard = _STANDARD.get(first)
    value: object
    if standard is not None:
        api_name, attribute = standard
        value = fields[api_name] if api_name in fields else getattr(opportunity, attribute)
    else:
        value = next((v for k, v in fields.items() if k.casefold() == first), None)
    return value if rest is None else value_at(value, rest)  # type: ignore[arg-type]


def stage_answers(statics: tuple[MilestoneStatic, ...], progress: StageProgress, today: dt.date
                  ) -> tuple[tuple[bool | None, ...], tuple[dt.date | None, ...]]:
    """Whether the stage completes each milestone (``StageProgress.completes``), and
    ``today`` for each that can be overdue today (else ``None``)."""
    late_before = not progress.closed_lost and not progress.closed_won
    late_after = not progress.closed_lost
    return (tuple(progress.completes(s.stage_index, s.before_close) for s in statics),
            tuple(today if (late_before if s.before_close else late_after) else None
                  for s in statics))
