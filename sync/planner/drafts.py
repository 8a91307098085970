"""Building the planner's frozen values at the cost of plain ones.

The plan's shapes (``DesiredMilestone``, ``DesiredPlan``) are frozen dataclasses: plans
share milestones (a backfill's first plans come from one memo), so nobody may change one in
place. But a frozen dataclass sets each field through ``object.__setattr__``, which costs
several times a plain slots class's constructor, and the planner builds millions of them.
A draft is a plain slots dataclass with the same fields in the same order (so the same memory
layout); it is filled the cheap way and then becomes the frozen class, which from then on
refuses every change like any instance of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sync.planner.model import DesiredMilestone, DesiredPlan

T = TypeVar("T")


def drafting(cls: type[T]) -> Callable[..., T]:
    """A constructor of ``cls`` (a frozen slots dataclass) taking every field positionally,
    in declaration order, and skipping ``__post_init__`` (which ``cls`` must not have)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if getattr(cls, "__slots__", None) != tuple(names) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: drafts need a slots dataclass without __post_init__")

    # The draft's constructor fills each slot and becomes ``cls`` in its own frame (a
    # dataclass's would call a ``__post_init__`` for that: one more call per value).
    # ``names`` are a dataclass's field names, so identifiers: the source is only these.
    source = (f"def __init__(self, {', '.join(names)}):\n"
              + "".join(f"    self.{n} = {n}\n" for n in names)
              + "    self.__class__ = cls\n")
    scope: dict[str, Any] = {"cls": cls}
    exec(source, scope)  # noqa: S102 - field names only, as dataclasses itself does
    draft = type(f"{cls.__name__}Draft", (), {
        "__slots__": tuple(names), "__init__": scope["__init__"],
        "__module__": __name__, "__qualname__": f"{cls.__name__}Draft"})
    return cast("Callable[..., T]", draft)


build_milestone = drafting(DesiredMilestone)
build_plan = drafting(DesiredPlan)


def with_owners(m: DesiredMilestone, contact_id: str | None,
                user_id: str | None) -> DesiredMilestone:
    """``m`` owned by ``contact_id`` and ``user_id``."""
    return build_milestone(
        m.key, m.name, m.sequence, m.stage, m.side, m.role, m.why, m.depends_on,
        m.baseline_due_date, m.due_date, m.completed_date, m.status, m.days_slipped,
        m.projected_date, contact_id, m.notes, m.pinned, user_id,
    )


def for_opportunity(p: DesiredPlan, opportunity_id: str,
                    milestones: tuple[DesiredMilestone, ...]) -> DesiredPlan:
    """``p`` as the plan of ``opportunity_id`` with ``milestones``."""
    return build_plan(
        opportunity_id, p.template, p.status, p.health, p.percent_complete,
        p.target_close_date, p.projected_close_date, p.go_live_date, p.days_slipped,
        p.slip_cause, p.next_milestone, p.next_due_date, p.summary, p.success_criteria,
        milestones, p.numbers, p.compelling_event_date, p.compelling_event, p.mapping_version,
    )


# the slot's own setter, under the frozen class's ``__setattr__``
_set_projected: Callable[[DesiredMilestone, dt.date], None] = (
    vars(DesiredMilestone)["projected_date"].__set__)


def reproject(m: DesiredMilestone, projected: dt.date) -> None:
    """Set the projected date of ``m``, a milestone just drafted and not yet handed to anyone
    (the one-pass re-plan learns it from the graph walk after building the milestone): as
    when drafting, the frozen class's refusal is for those who hold a milestone, and no one
    holds this one yet."""
    _set_projected(m, projected)
