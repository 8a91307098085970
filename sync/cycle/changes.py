"""From a desired plan and what Salesforce holds to the records that must be written.

Field ownership decides what may go out for an existing record: service-owned fields always,
rep-pinnable fields while the rep has not pinned them, rep-owned fields never — except the
owners a rep has not chosen: an owner contact still empty is filled once the role's contact is
known, a seller-side owner user follows the team member in the role, else the deal's owner.
A record that does not exist yet is written whole (rep-owned fields get their initial
values). What mapsync
will have written once the push lands (the new shadow) is computed here too, so the shadow
advances only for records that were really written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.salesforce.values import wire
from sync.cycle.diff import RecordChange, changed_fields
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT, milestone_external_id
from sync.planner.model import (
    OPPORTUNITY_ROLLUP_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
    DesiredPlan,
)

OWNER_CONTACT, OWNER_USER = "Owner_Contact__c", "Owner_User__c"
SELLER = "Seller"  # a seller-side owner user follows the deal's team and owner


@dataclass
class PlanChanges:
    """The writes one Opportunity's plan needs."""

    opportunity_id: str
    plan_id: str | None = None  # the plan's Salesforce Id when it exists already
    plan: RecordChange | None = None
    milestones: list[RecordChange] = field(default_factory=list)
    rollup: RecordChange | None = None
    shadows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (object, key) -> shadow once written, also for records that needed no write
    tasks: list[RecordChange] = field(default_factory=list)  # the milestones' Tasks
    milestone_ids: dict[str, str] = field(default_factory=dict)  # external id -> Id, existing


def _shadow_after(previous: Mapping[str, Any] | None, desired: Mapping[str, Any],
                  writable: frozenset[str] | set[str], created: bool) -> dict[str, Any]:
    """What mapsync will have written to a record once the change lands.

    A writable field counts as written even when no write was needed (Salesforce already
    held the desired value): from then on a different value there is a rep's edit.
    """
    if created:
        return {k: wire(v) for k, v in desired.items()}
    out = dict(previous or {})
    out.update((k, wire(desired[k])) for k in writable if k in desired)
    return out


def plan_changes(
    desired: DesiredPlan,
    opportunity: Mapping[str, Any],
    plan_record: Mapping[str, Any] | None,
    milestone_records: Mapping[str, Mapping[str, Any]],
    shadows: Mapping[tuple[str, str], Mapping[str, Any]],
    deleted_milestones: frozenset[str] = frozenset(),
    rep_set: Mapping[str, frozenset[str]] | None = None,
) -> PlanChanges:
    """The records to write for ``desired``, given Salesforce's records and the shadow.

    ``deleted_milestones``: keys of milestones a rep deleted (mapsync wrote them, Salesforce no
    longer has them); they are not recreated. ``rep_set``: per milestone key, the pinned fields
    whose value is a rep's by Salesforce's history; where Salesforce holds another value (a
    write of mapsync's landed after the rep's edit), the rep's value is written back.
    """
    opp_id = desired.opportunity_id
    out = PlanChanges(opportunity_id=opp_id,
                      plan_id=str(plan_record["Id"]) if plan_record else None)
    name = f"MAP: {opportunity.get('Name') or opp_id}"
    plan_values = {"Name": name[:80], **desired.fields()}
    plan_writable = set(SERVICE_OWNED_PLAN_FIELDS) | {"Name"}  # follows the Opportunity
    created = plan_record is None
    fields = changed_fields(plan_values, plan_record, plan_writable)
    if fields:
        out.plan = RecordChange(PLAN_OBJECT, opp_id, fields, created)
    out.shadows[(PLAN_OBJECT, opp_id)] = _shadow_after(
        shadows.get((PLAN_OBJECT, opp_id)), plan_values, plan_writable, created)
    for m in desired.milestones:
        if m.key in deleted_milestones:
            continue
        key = milestone_external_id(opp_id, m.key)
        current = milestone_records.get(m.key)
        values = m.fields()
        restore = (rep_set or {}).get(m.key, frozenset())
        writable = (SERVICE_OWNED_MILESTONE_FIELDS | (REP_PINNABLE_MILESTONE_FIELDS - m.pinned)
                    | restore)
        if current is not None:  # owners: a rep's choice stands; else an empty one is filled
            writable = writable | {f for f, v in ((OWNER_CONTACT, m.owner_contact_id),
                                                 (OWNER_USER, m.owner_user_id))
                                   if v and f not in m.pinned
                                   and (not current.get(f) or (f == OWNER_USER
                                                               and m.side == SELLER))}
        m_created = current is None
        m_fields = changed_fields(values, current, writable)
        if m_fields:
            out.milestones.append(RecordChange(MILESTONE_OBJECT, key, m_fields, m_created))
        out.shadows[(MILESTONE_OBJECT, key)] = _shadow_after(
            shadows.get((MILESTONE_OBJECT, key)), values, set(writable), m_created)
    rollup = desired.opportunity_rollup()
    r_fields = changed_fields(rollup, opportunity, OPPORTUNITY_ROLLUP_FIELDS)
    if r_fields:
        out.rollup = RecordChange(OPPORTUNITY, opp_id, r_fields, False)
    out.shadows[(OPPORTUNITY, opp_id)] = _shadow_after(
        shadows.get((OPPORTUNITY, opp_id)), rollup, set(OPPORTUNITY_ROLLUP_FIELDS), False)
    return out
