"""A re-plan of a plan that is as mapsync wrote it, in one pass over its milestones.

Every cycle plans each changed Opportunity again from the plan it wrote, and almost always
no rep has touched it: no rep pinned a field, no step was added or deleted. The general path
(``Planner._build``, then ``measures.measured``) then walks each milestone some nine times in
Python — resolve, project, build, rollup, on-time rates, last progress — and builds the plan
twice. This module computes the same plan in one loop, and gives up (``None``: the general
path decides) as soon as a milestone is anything but that usual case: a state missing or
pinned or with a field never written, a milestone due past the close, a rep-added step, a
template key twice. A plan running late (an open step overdue, a step completed after its
due date; a fifth of a cycle's re-plans, deals whose close went by) stays on the one pass:
the projection then walks the graph (``slip.pushed``, the definition itself) once the loop
has built the milestones, and the milestones it moves take their projected dates.
The caller sends only plans not held by a mapping change, not rolled out, not frozen (Closed
Lost) and with no deleted milestone.

It answers exactly as the general path does (``tests/planner/test_fused.py`` compares the
two on random plans); each step below names the rule it repeats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

from mappings.model import HealthThresholds
from sync.planner.calendar import BusinessCalendar
from sync.planner.drafts import build_milestone, build_plan, drafting, reproject
from sync.planner.measures import BUYER, CAUSE_LIMIT, JOINT, SELLER
from sync.planner.model import (
    ACTIVE,
    AT_RISK,
    COMPLETED,
    DONE,
    FINISHED_STATUSES,
    NOT_STARTED,
    ON_TRACK,
    SKIPPED,
    DesiredMilestone,
    DesiredPlan,
    Opportunity,
    PlanState,
)
from sync.planner.numbers import PlanNumbers
from sync.planner.owners import owner_of, users_by_role
from sync.planner.progress import BASELINE, COMPLETED_DATE, STATUS
from sync.planner.schedule import TemplateSchedule
from sync.planner.slip import cause_text, days_slipped, plan_days_slipped, pushed
from sync.planner.slip import health as plan_health
from sync.planner.statics import MilestoneStatic
from sync.planner.steady import AS_HELD, AS_WRITTEN

_numbers = drafting(PlanNumbers)
_FOR_BUYER, _FOR_SELLER = (BUYER, JOINT), (SELLER, JOINT)
_EARLIEST = dt.date.min


def steady_plan(
    opportunity: Opportunity,
    current: PlanState,
    template_name: str,
    version: str,
    statics: Sequence[MilestoneStatic],
    keys: Collection[str],
    schedule: TemplateSchedule,
    close: dt.date,
    today: dt.date,
    by_stage: tuple[Sequence[bool | None], Sequence[dt.date | None]],
    contacts: Mapping[str, str],
    calendar: BusinessCalendar,
    thresholds: HealthThresholds,
    won: bool,
) -> DesiredPlan | None:
    """The plan the general path would return, or ``None`` when this is not its usual case.

    ``keys``: the template's distinct milestone keys; ``by_stage``: ``Planner._by_stage``.
    """
    states = current.milestones
    if len(states) != len(statics) or len(keys) != len(statics):  # a step added, a key twice
        return None
    stage_done, overdue_today = by_stage
    scheduled, before_close = schedule.due_dates(close), schedule.graph.before_close
    owner_user, team = owner_of(opportunity), users_by_role(opportunity)
    milestones: list[DesiredMilestone] = []
    append = milestones.append
    finished = 0
    upcoming: DesiredMilestone | None = None
    best_due = dt.date.max
    # on-time rates for a live plan (late from today) and a closed one (late never)
    live_buyer = live_buyer_on = live_seller = live_seller_on = 0
    buyer = buyer_on = seller = seller_on = 0
    latest_done = latest_touch = _EARLIEST
    walk = False  # something runs late: the projection walks the graph (slip.pushed)
    for i, s in enumerate(statics):
        state = states.get(s.key)
        if state is None or state.rep_pins:
            return None
        written = state.written
        try:
            if AS_WRITTEN(written) != AS_HELD(state):
                return None
        except KeyError:
            return None
        baseline = written.get(BASELINE)
        if not isinstance(baseline, dt.date):
            return None
        # steady.resolve_all, not frozen
        held_status = state.status or NOT_STARTED
        done = stage_done[i]
        status = held_status if done is None else DONE if done else NOT_STARTED
        completed = state.completed_date
        if status == DONE:
            if held_status != DONE or not (completed or (
                    written[STATUS] == DONE and not written[COMPLETED_DATE])):
                completed = today
        else:
            completed = None
        due = scheduled[i]
        # slip._on_schedule: anything late sends the projection through the graph walk
        late = overdue_today[i]
        if before_close[i] and due > close:
            return None
        if status == DONE:
            end = completed or due
            if end > due:
                walk = True
        elif status == SKIPPED:
            end = due
        else:
            end = due  # its own date; the walk moves it when it runs late
            if late is not None and late > due:
                walk = True
        # Planner._build's milestone
        if status in FINISHED_STATUSES:
            late = None
        if due == baseline and (late is None or late <= due):
            slipped = 0
        else:
            slipped = days_slipped(calendar, baseline, due, late)
        owner, user = state.owner_contact_id, state.owner_user_id
        if owner is None and s.names_contact:
            owner = contacts.get(s.role_folded)
        if s.seller:
            seller_id = team.get(s.role_folded) or owner_user
            if seller_id is not None:
                user = seller_id
        m = build_milestone(
            s.key, s.name, i + 1, s.stage, s.side, s.role, s.why, s.depends_on, baseline,
            due, completed, status, slipped, end, owner, state.notes, state.rep_pins, user)
        append(m)
        # added.rollup (sequences ascend, so the first of the earliest due wins)
        if status in FINISHED_STATUSES:
            finished += 1
        elif upcoming is None or due < best_due:
            upcoming, best_due = m, due
        # measures.on_time_rates, for both a live and a closed plan
        side = s.side
        if status == DONE:
            on_time = 1 if completed is None or completed <= due else 0
            if side in _FOR_BUYER:
                buyer += 1
                buyer_on += on_time
            if side in _FOR_SELLER:
                seller += 1
                seller_on += on_time
            if completed is not None and completed > latest_done:
                latest_done = completed
        elif status != SKIPPED and due < today:
            if side in _FOR_BUYER:
                live_buyer += 1
            if side in _FOR_SELLER:
                live_seller += 1
        touched = state.touched_on
        if touched is not None and touched > latest_touch:
            latest_touch = touched
    steps = len(milestones)
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
    status = COMPLETED if steps and upcoming is None else ACTIVE
    live = status == ACTIVE
    if live:
        live_buyer += buyer
        live_buyer_on += buyer_on
        live_seller += seller
        live_seller_on += seller_on
    else:
        live_buyer, live_buyer_on, live_seller, live_seller_on = buyer, buyer_on, seller, seller_on
    # measures.last_progress and measured
    moved = max(current.last_progress_date or today, latest_done, latest_touch)
    moved = min(moved, today)
    still = max(0, calendar.business_days_between(moved, today)) if moved < today else 0
    numbers = _numbers(
        round(100.0 * live_buyer_on / live_buyer, 2) if live_buyer else None,
        round(100.0 * live_seller_on / live_seller, 2) if live_seller else None,
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
        upcoming.name[:255] if upcoming else None, upcoming.due_date if upcoming else None,
        current.summary, current.success_criteria, tuple(milestones), numbers, event_date,
        event, version,
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
