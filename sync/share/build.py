"""From Salesforce's records to the buyer's plan: the one place that chooses what is shown.

Inputs are the rows the share job read (plain dicts as the REST API answers them, with
relationship fields nested: ``Owner.Name``, ``Owner_Contact__r.Name``, ``Contact.Email``);
the output is a :class:`~sync.share.document.SharedPlan`, which has no field for anything
internal. Fields left out on purpose: milestone notes, health and its thresholds, the
raw slip cause, external ids, stage mapping keys, sync bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mappings.model import ResourceSpec
from sync.share.document import (
    BEHIND,
    DONE,
    NOT_NEEDED,
    PLANNED,
    Outcome,
    Person,
    Resource,
    SharedPlan,
    Slip,
    lateness_words,
)

Row = Mapping[str, Any]


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value[:10])
    return None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _nested(row: Row | None, *path: str) -> Any:
    value: Any = row
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def outcome(row: Row, today: dt.date) -> Outcome:
    """One milestone as an outcome: its owner by name (or role), committed and expected dates."""
    status = str(row.get("Status__c") or "")
    committed = _date(row.get("Baseline_Due_Date__c"))
    due = _date(row.get("Due_Date__c"))
    completed = _date(row.get("Completed_Date__c"))
    slipped = int(row.get("Days_Slipped__c") or 0)
    if status == "Done":
        state, expected = DONE, completed or due
    elif status == "Skipped":
        state, expected = NOT_NEEDED, None
    elif slipped > 0 or (due is not None and due < today):
        state, expected = BEHIND, max(due, today) if due is not None else None
    else:
        state, expected = PLANNED, due
    role = str(row.get("Owner_Role__c") or "")
    owner = _text(_nested(row, "Owner_Contact__r", "Name")) or "To be named"
    return Outcome(
        name=str(row.get("Name") or ""), why=_text(row.get("Why_It_Matters__c")),
        side=str(row.get("Owner_Side__c") or "Joint"), owner=owner, role=role,
        committed=committed, expected=expected, state=state,
        lateness=lateness_words(slipped) if state != NOT_NEEDED else None)


def plan_resources(template: Sequence[ResourceSpec], plan_field: Any) -> tuple[Resource, ...]:
    """The template's resources, then the rep's (``title | link`` per line of the plan)."""
    out = [Resource(r.title, r.link, r.side.value) for r in template]
    for line in (plan_field or "").splitlines() if isinstance(plan_field, str) else ():
        title, sep, link = line.partition("|")
        title, link = title.strip(), link.strip()
        if sep and title and link.startswith(("https://", "http://")):
            out.append(Resource(title, link, "Seller"))
    return tuple(out)


def collaborators(opportunity: Row, contact_roles: Iterable[Row]) -> tuple[Person, ...]:
    """The buyer's people (contact roles, primary first) and the seller's owner of the deal."""
    people: list[Person] = []
    roles = sorted(contact_roles, key=lambda r: (not r.get("IsPrimary"),
                                                 str(_nested(r, "Contact", "Name") or "")))
    for role in roles:
        name = _text(_nested(role, "Contact", "Name"))
        if name:
            people.append(Person(name, str(role.get("Role") or "Contact"), "Buyer",
                                 _text(_nested(role, "Contact", "Email"))))
    owner = _text(_nested(opportunity, "Owner", "Name"))
    if owner:
        title = _text(_nested(opportunity, "Owner", "Title")) or "Account Executive"
        people.append(Person(owner, title, "Seller", _text(_nested(opportunity, "Owner",
                                                                   "Email"))))
    return tuple(people)


def slip_of(plan: Row, outcomes: Sequence[Outcome], late: Sequence[Row]) -> Slip | None:
    """The plan's delay: days behind, the late outcomes and whose side they sit on."""
    days = int(plan.get("Days_Slipped__c") or 0)
    if days <= 0:
        return None
    causes = tuple(f"{o.name} ({o.side.lower()} side)" for o in outcomes if o.lateness)
    weights = Counter[str]()
    for row in late:
        weights[str(row.get("Owner_Side__c") or "Joint")] += int(row.get("Days_Slipped__c") or 0)
    sides = ""
    if weights:
        (top, top_days), total = weights.most_common(1)[0], sum(weights.values())
        share = "all" if top_days == total else "mostly"
        sides = f"{share} on the {top.lower()} side" if top != "Joint" else f"{share} shared"
    return Slip(days, _date(plan.get("Target_Close_Date__c")),
                _date(plan.get("Projected_Close_Date__c")), causes, sides)


def _status(plan: Row, slip: Slip | None) -> str:
    status = plan.get("Status__c")
    if status == "Cancelled":  # the Opportunity was lost
        return "Closed"
    if status == "Completed":
        return "Completed"
    return "Behind schedule" if slip else "On schedule"


def shared_plan(*, opportunity: Row, plan: Row, milestones: Iterable[Row],
                contact_roles: Iterable[Row], resources: Sequence[ResourceSpec] = (),
                seller: str | None = None, today: dt.date) -> SharedPlan:
    """The buyer's plan of one Opportunity, from the rows Salesforce holds."""
    rows = sorted(milestones, key=lambda m: (float(m.get("Sequence__c") or 0),
                                             str(m.get("Name") or "")))
    outcomes = tuple(outcome(m, today) for m in rows)
    late = [m for m, o in zip(rows, outcomes, strict=True) if o.lateness]
    slip = slip_of(plan, outcomes, late)
    return SharedPlan(
        title=str(opportunity.get("Name") or "Mutual Action Plan"),
        buyer=_text(_nested(opportunity, "Account", "Name")),
        seller=seller,
        why_we_are_here=_text(plan.get("Summary__c")),
        success_criteria=_text(plan.get("Success_Criteria__c")),
        target_close=_date(plan.get("Target_Close_Date__c")) or _date(
            opportunity.get("CloseDate")),
        go_live=_date(plan.get("Go_Live_Date__c")),
        compelling_event=_text(plan.get("Compelling_Event__c")),
        compelling_event_date=_date(plan.get("Compelling_Event_Date__c")),
        percent_done=round(float(plan.get("Percent_Complete__c") or 0)),
        outcomes=outcomes, slip=slip,
        resources=plan_resources(resources, plan.get("Resources__c")),
        collaborators=collaborators(opportunity, contact_roles),
        status=_status(plan, slip), as_of=today)
