"""Work-back scheduling: the due date of every milestone of a template for a close date.

A plan is built backwards from the day the buyer signs: each step must be finished before the
steps that wait for it can start, so its due date is as late as the plan allows (latest
finish). After the close, the buyer's value steps (kickoff, go-live, ROI review) run forward.

Semantics, all in business days of the mapping's calendar:

- a milestone's ``duration`` is the business days its work takes, ending on its due date; it
  starts ``duration`` business days before it is due (``start = due - duration``);
- before close: ``due(m) = min(cap, start(s) for every before-close s depending on m)``, where
  ``cap`` is the close date, or the business day before it when it falls on a day off. Every
  such due date is a business day on or before the close date, and
  ``due(m) <= due(s) - duration(s)`` for each dependent ``s``;
- after close: ``due(m) = max(close, due(p) for every dependency p) + duration(m)`` business
  days (the next business day when the duration is 0);
- an edge that cannot be honoured (a before-close milestone waiting for an after-close one) or
  names an unknown key is ignored here; the mapping validator reports it.

A template's graph is compiled once (topological order, edges by position) and dates are
memoised per close date, so planning many Opportunities costs a dictionary look-up per plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from config.errors import MappingError
from mappings.model import Anchor, Template
from sync.planner.calendar import BusinessCalendar

_MEMO_LIMIT = 8192


@dataclass(frozen=True, slots=True)
class TemplateGraph:
    """A template's dependency graph by milestone position (template order)."""

    keys: tuple[str, ...]
    durations: tuple[int, ...]
    before_close: tuple[bool, ...]
    depends_on: tuple[tuple[int, ...], ...]  # positions this milestone waits for (honoured)
    order: tuple[int, ...]  # topological: every dependency before what depends on it
    before_order: tuple[int, ...]  # ``order``'s before-close milestones, then its after-close
    after_order: tuple[int, ...]

    @classmethod
    def of(cls, template: Template) -> TemplateGraph:
        keys = tuple(m.key for m in template.milestones)
        position = {k: i for i, k in enumerate(keys)}
        before = tuple(m.anchor is Anchor.BEFORE_CLOSE for m in template.milestones)
        deps: list[tuple[int, ...]] = []
        for i, m in enumerate(template.milestones):
            honoured = []
            for key in dict.fromkeys(m.depends_on):
                p = position.get(key)
                if p is None or p == i or (before[i] and not before[p]):
                    continue
                honoured.append(p)
            deps.append(tuple(honoured))
        order = _topological(template.name, keys, deps)
        return cls(
            keys=keys,
            durations=tuple(m.duration for m in template.milestones),
            before_close=before,
            depends_on=tuple(deps),
            order=order,
            before_order=tuple(i for i in order if before[i]),
            after_order=tuple(i for i in order if not before[i]),
        )


def _topological(name: str, keys: tuple[str, ...], deps: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Kahn's algorithm; ties keep template order so the result is stable."""
    waiting = [len(d) for d in deps]
    dependents: list[list[int]] = [[] for _ in keys]
    for i, d in enumerate(deps):
        for p in d:
            dependents[p].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    order: list[int] = []
    while ready:
        ready.sort(reverse=True)
        i = ready.pop()
        order.append(i)
        for s in dependents[i]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if len(order) != len(keys):
        stuck = ", ".join(keys[i] for i, n in enumerate(waiting) if n)
        raise MappingError(f"template {name}: dependency cycle among {stuck}")
    return tuple(order)


class TemplateSchedule:
    """Due dates of one template's milestones under one calendar, memoised by close date."""

    __slots__ = ("_memo", "calendar", "graph")

    def __init__(self, template: Template, calendar: BusinessCalendar) -> None:
        self.graph = TemplateGraph.of(template)
        self.calendar = calendar
        self._memo: dict[dt.date, tuple[dt.date, ...]] = {}

    def due_dates(self, close: dt.date) -> tuple[dt.date, ...]:
        """Due date of each milestone (template order) for a target close date."""
        dates = self._memo.get(close)
        if dates is None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            dates = self._memo[close] = self._compute(close)
        return dates

    def _compute(self, close: dt.date) -> tuple[dt.date, ...]:
        g, cal = self.graph, self.calendar
        n = len(g.keys)
        due: list[dt.date | None] = [None] * n
        cap = cal.previous_business_day(close)
        latest: list[dt.date] = [cap] * n  # latest allowed finish, tightened by dependents
        for i in reversed(g.order):
            if not g.before_close[i]:
                continue
            d = latest[i]
            due[i] = d
            start = cal.add_business_days(d, -g.durations[i])
            for p in g.depends_on[i]:
                if start < latest[p]:
                    latest[p] = start
        for i in g.order:
            if g.before_close[i]:
                continue
            base = close
            for p in g.depends_on[i]:
                dp = due[p]
                if dp is not None and dp > base:
                    base = dp
            duration = g.durations[i]
            due[i] = (
                cal.add_business_days(base, duration) if duration else cal.next_business_day(base)
            )
        return tuple(d if d is not None else cap for d in due)


class ScheduleBook:
    """Compiled schedules per (template, calendar), reused across many plans.

    Templates and calendars are immutable, so a compiled schedule never goes stale; the book
    holds the objects it was built from, so their identities stay valid while cached.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[tuple[int, int], tuple[Template, BusinessCalendar, TemplateSchedule]]
        self._entries = {}

    def schedule(self, template: Template, calendar: BusinessCalendar) -> TemplateSchedule:
        key = (id(template), id(calendar))
        entry = self._entries.get(key)
        if entry is None or entry[0] is not template or entry[1] is not calendar:
            if len(self._entries) >= 256:
                self._entries.clear()
            entry = (template, calendar, TemplateSchedule(template, calendar))
            self._entries[key] = entry
        return entry[2]
