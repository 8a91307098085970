"""The plan as Salesforce and the shadow hold it once a desired plan has been pushed.

The planner's tests, properties and benchmark replay cycles without an org: plan, "write",
plan again. This is the "write" — what a push leaves in Salesforce and in mapsync's shadow
under the ownership rules — kept apart from the shapes in ``model``.
"""

from __future__ import annotations

from typing import Any

from sync.planner.model import (
    REP_OWNED_MILESTONE_FIELDS,
    REP_OWNED_PLAN_FIELDS,
    DesiredPlan,
    MilestoneState,
    PlanState,
)


def state_after_writing(desired: DesiredPlan, previous: PlanState | None = None) -> PlanState:
    """The plan as Salesforce and the shadow hold it once ``desired`` has been pushed.

    On creation every field is written. Afterwards a push carries neither rep-owned fields nor
    the fields a rep has pinned, so their shadow values stay what mapsync wrote before (which
    keeps a pin a pin), while Salesforce holds the desired value (which is the rep's).
    """
    plan_fields = desired.fields()
    if previous is None:
        plan_written: dict[str, Any] = dict(plan_fields)
    else:
        plan_written = dict(previous.written)
        plan_written.update(
            (f, v) for f, v in plan_fields.items() if f not in REP_OWNED_PLAN_FIELDS
        )
    before = previous.milestones if previous is not None else {}
    milestones: dict[str, MilestoneState] = {}
    for m in desired.milestones:
        values = m.fields()
        old = before.get(m.key)
        if old is None:
            written: dict[str, Any] = dict(values)
        else:
            written = dict(old.written)
            written.update(
                (f, v) for f, v in values.items()
                if f not in REP_OWNED_MILESTONE_FIELDS and f not in m.pinned
            )
            for f, now, was in (("Owner_Contact__c", m.owner_contact_id, old.owner_contact_id),
                                ("Owner_User__c", m.owner_user_id, old.owner_user_id)):
                if now and now != was and f not in m.pinned:  # an owner mapsync named
                    written[f] = now
        milestones[m.key] = MilestoneState(
            key=m.key,
            status=m.status,
            completed_date=m.completed_date,
            due_date=m.due_date,
            baseline_due_date=m.baseline_due_date,
            owner_contact_id=m.owner_contact_id,
            notes=m.notes,
            written=written,
            name=m.name[:80],
            why=m.why[:255] or None,
            owner_user_id=m.owner_user_id,
        )
    return PlanState(
        template=desired.template,
        status=desired.status,
        target_close_date=desired.target_close_date,
        go_live_date=desired.go_live_date,
        summary=desired.summary,
        success_criteria=desired.success_criteria,
        last_progress_date=desired.numbers.last_progress_date,
        compelling_event_date=desired.compelling_event_date,
        compelling_event=desired.compelling_event,
        written=plan_written,
        milestones=milestones,
    )
