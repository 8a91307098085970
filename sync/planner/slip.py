"""Slip: how late each milestone runs, where that pushes the close, and why.

Managers forecast from the Opportunity, so the plan's lateness has to end up there as a date
and a health, and the rep needs to know which step (and whose side) causes it. All counts are
business days of the mapping's calendar (``BusinessCalendar.business_days_between``).

- A milestone's days slipped: from its baseline to its due date — or, while it is open and
  overdue, to ``today`` (an overdue step cannot finish before today). Never negative.
- Projected date (critical path, forward): a finished milestone ends on its completed date
  (its due date if none is recorded); a skipped one holds nobody up. An open one ends on the
  later of its own date (due date, or the next business day from ``today`` when overdue) and
  ``duration`` business days after the latest projected end of what it waits for.
  Milestones after the close also wait for the projected close itself.
- Projected close: the later of the target close date and every before-close projection.
- Slip cause: following the chain that sets the projected close back to where the delay
  starts — the milestone whose own date (overdue, late completion or a rep's later due
  date) pushes everything after it — named with its side, e.g. ``Security review (Buyer)``.
- Health: Off Track from ``off_track_days`` of plan slip, At Risk from ``at_risk_days``;
  a plan that has not slipped is On Track.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from mappings.model import HealthThresholds
from sync.planner.calendar import BusinessCalendar
from sync.planner.drafts import drafting
from sync.planner.model import AT_RISK, DONE, OFF_TRACK, ON_TRACK, SKIPPED
from sync.planner.schedule import TemplateGraph


@dataclass(frozen=True, slots=True)
class Projection:
    """Projected end of each milestone (template order), the projected close, and the cause."""

    dates: tuple[dt.date, ...]
    close: dt.date
    cause: int | None  # position of the milestone that sets a slipped close, else None


_projection = drafting(Projection)


def days_slipped(
    calendar: BusinessCalendar,
    baseline: dt.date | None,
    due: dt.date | None,
    overdue_from: dt.date | None,
) -> int:
    """Business days a milestone runs behind its baseline (``overdue_from``: today, if open)."""
    if baseline is None or due is None:
        return 0
    if due == baseline and (overdue_from is None or overdue_from <= due):
        return 0
    end = overdue_from if overdue_from is not None and overdue_from > due else due
    return max(0, calendar.business_days_between(baseline, end))


def project(
    graph: TemplateGraph,
    calendar: BusinessCalendar,
    close: dt.date,
    scheduled: Sequence[dt.date],
    statuses: Sequence[str],
    due: Sequence[dt.date],
    completed: Sequence[dt.date | None],
    today_for: Sequence[dt.date | None],
) -> Projection:
    """Push every milestone's lateness through the dependency graph.

    ``scheduled`` holds the work-back dates for ``close``, ``due`` each milestone's due date
    (the scheduled one where Salesforce has none);
    ``today_for[i]`` is today for milestones that can be overdue, ``None`` for those that
    cannot (finished plans, or before-close steps of a won deal).
    """
    on_time = _on_schedule(graph, close, scheduled, statuses, due, completed, today_for)
    if on_time is not None:  # nothing runs late, so nothing is pushed: the usual answer
        return _projection(on_time, close, None)
    return pushed(graph, calendar, close, scheduled, statuses, due, completed, today_for)


def pushed(
    graph: TemplateGraph,
    calendar: BusinessCalendar,
    close: dt.date,
    scheduled: Sequence[dt.date],
    statuses: Sequence[str],
    due: Sequence[dt.date],
    completed: Sequence[dt.date | None],
    today_for: Sequence[dt.date | None],
) -> Projection:
    """``project`` walking the graph: the definition, whatever runs late."""
    n = len(graph.keys)
    end: list[dt.date] = list(due)
    origin: list[int] = list(range(n))
    add = calendar.add_business_days
    depends_on, durations = graph.depends_on, graph.durations
    projected_close = close
    cause: int | None = None
    overdue_on: dt.date | None = None  # the day ``resume`` is for
    resume = close
    for after_close_pass, order in ((False, graph.before_order), (True, graph.after_order)):
        for i in order:
            status = statuses[i]
            if status == DONE:
                end[i] = completed[i] or due[i]
                continue
            if status == SKIPPED:
                continue
            own = due[i]
            today = today_for[i]
            if today is not None and today > own:
                if today != overdue_on:  # an overdue step resumes the next business day
                    overdue_on, resume = today, calendar.next_business_day(today)
                own = resume
            best, source = own, i
            if own >= scheduled[i] and (not after_close_pass or projected_close == close):
                for p in depends_on[i]:
                    if end[p] > scheduled[p]:
                        break
                else:
                    # nothing it waits for runs late: by construction of the schedule it
                    # cannot be pushed past its own date
                    end[i] = own
                    continue
            duration = durations[i]
            if after_close_pass:
                start = projected_close
                for p in depends_on[i]:
                    if statuses[p] != SKIPPED and end[p] > start:
                        start = end[p]
                pushed = add(start, duration) if duration else calendar.next_business_day(start)
                if pushed > best:
                    best = pushed
            else:
                for p in depends_on[i]:
                    if statuses[p] == SKIPPED:
                        continue
                    pushed = add(end[p], duration)
                    if pushed > best:
                        best, source = pushed, origin[p]
            end[i], origin[i] = best, source
        if not after_close_pass:
            for i in order:
                if statuses[i] != SKIPPED and end[i] > projected_close:
                    projected_close, cause = end[i], origin[i]
    return _projection(tuple(end), projected_close, cause)


def _on_schedule(
    graph: TemplateGraph,
    close: dt.date,
    scheduled: Sequence[dt.date],
    statuses: Sequence[str],
    due: Sequence[dt.date],
    completed: Sequence[dt.date | None],
    today_for: Sequence[dt.date | None],
) -> tuple[dt.date, ...] | None:
    """Each milestone's end when every one ends by its work-back date (open ones due on it
    and not overdue, done or skipped ones ended by it) and the ones before close by the
    close (a held plan's stored dates may not be), else ``None``. Then ``pushed`` would push
    nothing, and every end is the milestone's own (a done one's completion)."""
    ends: list[dt.date] = []
    for date, status, own, done_on, today, before in zip(
            scheduled, statuses, due, completed, today_for, graph.before_close, strict=True):
        if before and date > close:
            return None
        if status == DONE:
            own = done_on or own
            if own > date:
                return None
        elif status == SKIPPED:
            if own > date:
                return None
        elif own != date or (today is not None and today > own):
            return None
        ends.append(own)
    return tuple(ends)


def plan_days_slipped(calendar: BusinessCalendar, target: dt.date, projected: dt.date) -> int:
    return max(0, calendar.business_days_between(target, projected))


def health(slipped: int, thresholds: HealthThresholds) -> str:
    """On Track / At Risk / Off Track from the business days the projected close slipped."""
    if slipped > 0 and slipped >= thresholds.off_track_days:
        return OFF_TRACK
    if slipped > 0 and slipped >= thresholds.at_risk_days:
        return AT_RISK
    return ON_TRACK


def cause_text(name: str, side: str) -> str:
    return f"{name} ({side})"[:255]
