"""The numbers of a MAP: whether each side keeps its dates, whether the plan still moves, and
whether it still meets the buyer's compelling event.

A plan slips quietly in two ways the projected close alone does not show: one side keeps
missing its dates, or nobody touches the plan at all. So the plan carries, per side, the share
of its milestones done by their due date (joint milestones count for both sides: both
committed to them), and the last day it moved; a plan still for ``stale_after_days`` business
days is At Risk with that as its cause. When the projected close passes the buyer's compelling
event (a rep-owned date and reason on the plan), the slip cause says so: the date the deal
was meant to make is the one a manager asks about. Pure, like the rest of the planner.
"""

from __future__ import annotations

import datetime as dt

from mappings.model import HealthThresholds, Side
from sync.planner.calendar import BusinessCalendar
from sync.planner.drafts import build_plan, drafting
from sync.planner.model import (
    ACTIVE,
    AT_RISK,
    DONE,
    ON_TRACK,
    SKIPPED,
    DesiredMilestone,
    DesiredPlan,
    PlanState,
)
from sync.planner.numbers import PlanNumbers

_numbers = drafting(PlanNumbers)

CAUSE_LIMIT = 255  # characters of a plan's slip cause
BUYER, SELLER, JOINT = str(Side.BUYER), str(Side.SELLER), str(Side.JOINT)


def on_time_rates(milestones: tuple[DesiredMilestone, ...],
                  today: dt.date) -> tuple[float | None, float | None]:
    """Percent of the buyer's, and of the seller's, settled milestones done by their due
    date; ``None`` for a side none of whose is. Joint ones count for both sides.

    Settled: done, or open and due before ``today`` (already late). Skipped ones do not count.
    One done before mapsync tracked it (no completion date) counts as on time: it was done
    when first seen, which is no slip either.
    """
    buyer_settled = buyer_on_time = seller_settled = seller_on_time = 0
    for m in milestones:
        due = m.due_date
        if due is None:
            continue
        status = m.status
        if status == DONE:
            on_time = 1 if m.completed_date is None or m.completed_date <= due else 0
        elif status != SKIPPED and due < today:
            on_time = 0
        else:
            continue
        side = m.side
        if side in (BUYER, JOINT):
            buyer_settled += 1
            buyer_on_time += on_time
        if side in (SELLER, JOINT):
            seller_settled += 1
            seller_on_time += on_time
    return (round(100.0 * buyer_on_time / buyer_settled, 2) if buyer_settled else None,
            round(100.0 * seller_on_time / seller_settled, 2) if seller_settled else None)


def last_progress(desired: DesiredPlan, current: PlanState | None,
                  today: dt.date) -> dt.date:
    """The last day the plan moved: a milestone completed or touched by someone other than
    mapsync, or the day mapsync first knew the plan (creation, or this feature's first run)."""
    if current is None:
        return today
    latest = current.last_progress_date or today
    for m in desired.milestones:
        done_on = m.completed_date
        if done_on is not None and done_on > latest and m.status == DONE:
            latest = done_on
    for state in current.milestones.values():
        touched = state.touched_on
        if touched is not None and touched > latest:
            latest = touched
    return min(latest, today)


def measured(desired: DesiredPlan, current: PlanState | None,
             thresholds: HealthThresholds, calendar: BusinessCalendar,
             today: dt.date, *, won: bool = False) -> DesiredPlan:
    """``desired`` with its numbers, the rep's compelling event, and health and cause moved
    by a stale plan or a missed compelling event (neither for a won deal: it is not late)."""
    live = desired.status == ACTIVE
    moved = last_progress(desired, current, today)
    still = max(0, calendar.business_days_between(moved, today)) if moved < today else 0
    late_after = today if live else dt.date.min  # a closed plan's numbers stop moving
    buyer, seller = on_time_rates(desired.milestones, late_after)
    numbers = _numbers(buyer, seller, moved, still if live else None)
    event_date = current.compelling_event_date if current else None
    event = current.compelling_event if current else None
    health, causes = desired.health, [desired.slip_cause] if desired.slip_cause else []
    if live and not won:
        if still >= thresholds.stale_after_days:
            causes.append(f"no progress for {still} days")
            health = AT_RISK if health == ON_TRACK else health
        if event_date is not None and desired.projected_close_date > event_date:
            reason = f" ({event})" if event else ""
            causes.append(f"projected close {desired.projected_close_date.isoformat()} passes "
                          f"the compelling event{reason} on {event_date.isoformat()}")
    cause = "; ".join(causes)[:CAUSE_LIMIT] or None
    d = desired
    return build_plan(
        d.opportunity_id, d.template, d.status, health, d.percent_complete,
        d.target_close_date, d.projected_close_date, d.go_live_date, d.days_slipped, cause,
        d.next_milestone, d.next_due_date, d.summary, d.success_criteria, d.milestones,
        numbers, event_date, event, d.mapping_version,
    )
