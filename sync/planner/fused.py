"""A re-plan of a plan that is as mapsync wrote it, in one pass over its milestones.

Every cycle plans each changed Opportunity again from the plan it wrote, and almost always
no rep has touched it: no rep pinned a field, no step was added or deleted. The general path
(``Planner._build``, then ``measures.measured``) then walks each milestone some nine times in
Python — resolve, project, build, rollup, on-time rates, last progress — and builds the plan
twice. This module computes the same plan in one loop, and gives up (``None``: the general
path decides) as soon as a milestone is anything but that usual case: a state missing or
pinned or with a field never written, a milestone due past the close, a rep-added step, a
template key twice. A plan running late (an open step overdue, a step completed after its
due date: a fifth of the planner benchmark's re-plans, deals whose close went by) stays on
the one pass: its projection then walks the graph (``slip.pushed``, the definition itself)
once the loop has built the milestones, and those the walk moves take their projected dates.
The caller sends only plans not held by a mapping change, not rolled out, not frozen (Closed
Lost) and with no deleted milestone.

It answers exactly as the general path does (``tests/planner/test_fused.py`` compares the
two on random plans); each step below names the rule it repeats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import NamedTuple

from mappings.model import HealthThresholds
from sync.planner.calendar import BusinessCalendar
from sync.planner.drafts import build_milestone, build_plan, drafting, reproject
from sync.planner.measures import BUYER, CAUSE_LIMIT, JOINT, SELLER
from sync.planner.model import (
    ACTIVE,
    AT_RISK,
    COMPLETED,
    DONE,
    NOT_STARTED,
    ON_TRACK,
    SKIPPED,
    DesiredMilestone,
    DesiredPlan,
    Opportunity,
    PlanState,
)
from sync.planner.numbers import PlanNumbers
from sync.planner.owners import contacts_by_role, owner_of, users_by_role
from sync.planner.progress import BASELINE, COMPLETED_DATE, STATUS
from sync.planner.schedule import TemplateSchedule
from sync.planner.slip import cause_text, plan_days_slipped, pushed
from sync.planner.slip import health as plan_health
from sync.planner.statics import MilestoneStatic
from sync.planner.steady import AS_HELD, AS_WRITTEN

_numbers = drafting(PlanNumbers)
_FOR_BUYER, _FOR_SELLER = (BUYER, JOINT), (SELLER, JOINT)
_EARLIEST, _DATE = dt.date.min, dt.date


class Line(NamedTuple):
    """What the one pass reads of a template milestone, in the order it reads it."""

    key: str
    name: str
    sequence: int
    stage: str | None
    side: str
    role: str
    why: str
    depends_on: tuple[str, ...]
    names_contact: bool
    seller: bool
    role_folded: str
    for_buyer: bool  # counts in the buyer's on-time rate (buyer or joint side)
    for_seller: bool
    before_close: bool


def lines(statics: Sequence[MilestoneStatic]) -> tuple[Line, ...]:
    """The lines of a template's milestones (template order), prepared once per template."""
    return tuple(
        Line(s.key, s.name, i + 1, s.stage, s.side, s.role, s.why, s.depends_on,
             s.names_contact, s.seller, s.role_folded, s.side in _FOR_BUYER,
             s.side in _FOR_SELLER, s.before_close)
        for i, s in enumerate(statics))


def steady_plan(
    opportunity: Opportunity,
    current: PlanState,
    template_name: str,
    version: str,
    template_lines: Sequence[Line],
    keys: Collection[str],
    schedule: TemplateSchedule,
    close: dt.date,
    today: dt.date,
    by_stage: tuple[Sequence[bool | None], Sequence[dt.date | None]],
    calendar: BusinessCalendar,
    thresholds: HealthThresholds,
    won: bool,
) -> DesiredPlan | None:
    """The plan the general path would return, or ``None`` when this is not its usual case.

    ``template_lines``: ``lines`` of the template's milestones; ``keys``: its distinct
    milestone keys; ``by_stage``: ``Planner._by_stage``.
    """
    states = current.milestones
    steps = len(template_lines)
    if len(states) != steps or len(keys) != steps:  # a step added, a key twice
        return None
    stage_done, overdue_today = by_stage
    scheduled = schedule.due_dates(close)
    owner_user, team = owner_of(opportunity), users_by_role(opportunity)
    between = calendar.business_days_between
    get = states.get
    contacts: dict[str, str] | None = None  # by role, once a milestone asks
    milestones: list[DesiredMilestone] = []
    append = milestones.append
    finished = 0
    upcoming = -1  # position of the next milestone (the open one due first)
    best_due = dt.date.max
    # on-time rates for a live plan (late from today) and a closed one (late never)
    live_buyer = live_seller = 0
    buyer = buyer_on = seller = seller_on = 0
    latest_done = latest_touch = _EARLIEST
    walk = False  # something runs late: the projection walks the graph (slip.pushed)
    for (key, name, sequence, stage, side, role, why, depends_on, names_contact, sells,
         role_folded, for_buyer, for_seller, before_close), done, due, late in zip(
            template_lines, stage_done, scheduled, overdue_today, strict=True):
        state = get(key)
        if state is None:
            return None
        pins = state.rep_pins
        if pins:
            return None
        written = state.written
        try:
            if AS_WRITTEN(written) != AS_HELD(state):
                return None
        except KeyError:
            return None
        baseline = written.get(BASELINE)
        if not isinstance(baseline, _DATE):
            return None
        if before_close and due > close:
            return None
        # steady.resolve_all, not frozen; then slip._on_schedule: anything late sends the
        # projection through the graph walk; Planner._build's days slipped; added.rollup
        # (sequences ascend, so the first of the earliest due wins); measures.on_time_rates
        held_status = state.status or NOT_STARTED
        status = held_status if done is None else DONE if done else NOT_STARTED
        if status == DONE:
            completed = state.completed_date
            if held_status != DONE or not (completed or (
                    written[STATUS] == DONE and not written[COMPLETED_DATE])):
                completed = today
            end = completed or due
            if end > due:
                walk = True
            slipped = 0 if due == baseline else max(0, between(baseline, due))
            finished += 1
            on_time = 1 if completed is None or completed <= due else 0
            if for_buyer:
                buyer += 1
                buyer_on += on_time
            if for_seller:
                seller += 1
                seller_on += on_time
            if completed is not None and completed > latest_done:
                latest_done = completed
        else:
            completed, end = None, due  # an open one's own date; the walk moves it if late
            if status == SKIPPED:
                finished += 1
                stop = due
            else:
                if late is not None and late > due:
                    walk, stop = True, late
                else:
                    stop = due
                if upcoming < 0 or due < best_due:
                    upcoming, best_due = len(milestones), due
                if due < today:
                    live_buyer += for_buyer
                    live_seller += for_seller
            slipped = 0 if stop == baseline else max(0, between(baseline, stop))
        owner, user = state.owner_contact_id, state.owner_user_id
        if owner is None and names_contact:  # the role's contact, when still empty
            if contacts is None:
                contacts = contacts_by_role(opportunity)
            owner = contacts.get(role_folded)
        if sells:
            seller_id = team.get(role_folded) or owner_user
            if seller_id is not None:
                user = seller_id
        append(build_milestone(
            key, name, sequence, stage, side, role, why, depends_on, baseline, due, completed,
            status, slipped, end, owner, state.notes, pins, user))
        touched = state.touched_on
        if touched is not None and touched > latest_touch:
            latest_touch = touched
    # Planner._build's projection and cause, then Planner._plan: when nothing runs late the
    # projected close is the close and nothing slipped
    projected, cause, slipped, health = close, None, 0, ON_TRACK
    if walk:
        projected, cause = _walked(milestones, schedule, scheduled, close, overdue_today,
                                   calendar)
        if won:  # the deal is won: its close is the close, nothing slipped
            projected, cause = close, None
        slipped = plan_days_slipped(calendar, close, projected)
        health = plan_health(slipped, thresholds)
        if slipped <= 0:
            cause = None
    status = COMPLETED if steps and upcoming < 0 else ACTIVE
    live = status == ACTIVE
    if live:  # the settled ones, and the open ones already overdue (none on time)
        live_buyer += buyer
        live_seller += seller
    else:
        live_buyer, live_seller = buyer, seller
    # measures.last_progress and measured
    moved = max(current.last_progress_date or today, latest_done, latest_touch)
    moved = min(moved, today)
    still = max(0, calendar.business_days_between(moved, today)) if moved < today else 0
    numbers = _numbers(
        round(100.0 * buyer_on / live_buyer, 2) if live_buyer else None,
        round(100.0 * seller_on / live_seller, 2) if live_seller else None,
        moved, still if live else None)
    event_date, event = current.compelling_event_date, current.compelling_event
    causes = [cause] if cause else []
    if live and not won:
        if still >= thresholds.stale_after_days:
            causes.append(f"no progress for {still} days")
            health = AT_RISK if health == ON_TRACK else health
        if event_date is not None and projected > event_date:
            reason = f" ({event})" if event else ""
            causes.append(f"projected close {projected.isoformat()} passes "
                          f"the compelling event{reason} on {event_date.isoformat()}")
    cause = "; ".join(causes)[:CAUSE_LIMIT] or None
    return build_plan(
        opportunity.id, template_name, status, health,
        round(100.0 * finished / steps, 2) if steps else 0.0, close, projected,
        current.go_live_date, slipped, cause,
        *_next(milestones, upcoming), current.summary, current.success_criteria,
        tuple(milestones), numbers, event_date, event, version,
    )


def _walked(
    milestones: list[DesiredMilestone],
    schedule: TemplateSchedule,
    scheduled: Sequence[dt.date],
    close: dt.date,
    overdue_today: Sequence[dt.date | None],
    calendar: BusinessCalendar,
) -> tuple[dt.date, str | None]:
    """``slip.pushed`` over the milestones just built with their own dates: each one the
    walk moves takes its projected date; the projected close and the slip cause's text
    (``Planner._build``) come back."""
    projection = pushed(
        schedule.graph, calendar, close, scheduled, [m.status for m in milestones], scheduled,
        [m.completed_date for m in milestones], overdue_today)
    for m, date in zip(milestones, projection.dates, strict=True):
        if m.projected_date != date:
            reproject(m, date)
    if projection.cause is None:
        return projection.close, None
    culprit = milestones[projection.cause]
    return projection.close, cause_text(culprit.name, culprit.side)


def _next(milestones: list[DesiredMilestone], at: int) -> tuple[str | None, dt.date | None]:
    """The plan's next milestone and its due date: the one at ``at`` (``-1``: none open)."""
    if at < 0:
        return None, None
    upcoming = milestones[at]
    return upcoming.name[:255], upcoming.due_date
