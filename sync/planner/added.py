"""Milestones a rep added to a plan by hand, and what they add up to with the template's.

A rep adds a step the template does not know ("Procurement portal registration") straight
into Salesforce: it has no template key, so mapsync never writes it, but it is part of the
plan the buyer and the manager read. It therefore counts like any other step in percent
complete, in the next milestone, and in health: an open one due by the close that is
already overdue cannot finish before the next business day, and pushes the projected close
when that is after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from sync.planner.calendar import BusinessCalendar
from sync.planner.model import FINISHED_STATUSES, NOT_STARTED, PlanState


class StepLike(Protocol):
    """A step as the plan's rollups read it: a template milestone or a rep-added one."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_date(self) -> dt.date | None: ...
    @property
    def sequence(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Step:
    """One step as the plan's rollups see it: template or rep-added alike."""

    name: str
    status: str
    due_date: dt.date | None
    sequence: int

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED_STATUSES


def added_steps(current: PlanState | None, template_keys: Collection[str],
                after: int) -> tuple[Step, ...]:
    """The rep-added milestones of ``current``, numbered after the template's ``after`` steps:
    not in the template and never written by mapsync (a milestone mapsync wrote for a key the
    mapping has since dropped is a leftover of the old mapping, not a rep's step)."""
    if current is None:
        return ()
    extra = [m for key, m in current.milestones.items()
             if not m.written and key not in template_keys and key not in current.deleted]
    if not extra:
        return ()
    extra.sort(key=lambda m: (m.due_date or dt.date.max, m.key))
    return tuple(Step(m.name or m.key, m.status or NOT_STARTED, m.due_date, after + i + 1)
                 for i, m in enumerate(extra))


def latest_end(steps: Sequence[Step], calendar: BusinessCalendar, close: dt.date,
               today: dt.date) -> tuple[dt.date, Step] | None:
    """The latest projected end after ``close`` of an overdue open step due by ``close``."""
    worst: tuple[dt.date, Step] | None = None
    for step in steps:
        due = step.due_date
        if not step.is_open or due is None or due > close or today <= due:
            continue
        end = calendar.next_business_day(today)
        if end > close and (worst is None or end > worst[0]):
            worst = (end, step)
    return worst


def percent_complete(steps: Sequence[StepLike]) -> float:
    """Done and Skipped steps over all steps, in percent (0 for a plan without steps)."""
    if not steps:
        return 0.0
    finished = sum(1 for s in steps if s.status in FINISHED_STATUSES)
    return round(100.0 * finished / len(steps), 2)


def next_step(steps: Sequence[StepLike]) -> StepLike | None:
    """The open step due first (the earlier in sequence on a tie)."""
    open_ = [s for s in steps if s.status not in FINISHED_STATUSES]
    return min(open_, key=_due_order) if open_ else None


def _due_order(s: StepLike) -> tuple[dt.date, int]:
    return (s.due_date or dt.date.max, s.sequence)


def rollup(steps: Sequence[StepLike]) -> tuple[float, StepLike | None]:
    """``percent_complete`` and ``next_step`` in one pass (``None``: no step is open)."""
    finished = 0
    upcoming: StepLike | None = None
    best_due, best_sequence = dt.date.max, 0
    for s in steps:
        if s.status in FINISHED_STATUSES:
            finished += 1
            continue
        due = s.due_date or dt.date.max  # ``_due_order``, without a tuple per step
        if upcoming is None or due < best_due or (due == best_due
                                                  and s.sequence < best_sequence):
            upcoming, best_due, best_sequence = s, due, s.sequence
    return (round(100.0 * finished / len(steps), 2) if steps else 0.0), upcoming
