"""Milestones a changed mapping no longer has, when the change is applied to a plan.

``mapsync mappings apply`` rolls a template change out to existing plans on purpose; a
milestone the template lost must not linger (nor share its sequence number with another).
A milestone nobody but mapsync touched is deleted in Salesforce. One a rep changed (a pinned
field: Salesforce's field history or the shadow says so) is the rep's work and stays, marked
Skipped unless it is already finished (Done keeps its Done), numbered after the template's
milestones. A milestone a rep added by hand (no template key) is the rep's, untouched.
Only the apply job asks for this; the cycle and the reconcile keep a plan's milestones.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from connectors.salesforce.values import wire
from sync.cycle.changes import PlanChanges
from sync.cycle.diff import RecordChange
from sync.cycle.sobjects import MILESTONE_OBJECT, milestone_external_id
from sync.planner.model import FINISHED_STATUSES, SKIPPED, PlanState

STATUS, SEQUENCE = "Status__c", "Sequence__c"


def retire(changes: PlanChanges, state: PlanState, template_keys: Collection[str],
           records: Mapping[str, Mapping[str, Any]],
           shadows: Mapping[tuple[str, str], Mapping[str, Any]],
           kept: set[str]) -> dict[str, str]:
    """Add to ``changes`` the kept milestones' writes (their external ids to ``kept``);
    return the ones to delete (external id → Salesforce Id)."""
    opp_id = changes.opportunity_id
    gone = sorted(
        (key for key, rec in records.items()
         if key not in template_keys and rec.get("Key__c") and key in state.milestones),
        key=lambda k: (records[k].get(SEQUENCE) or 0, k))
    delete: dict[str, str] = {}
    sequence = len(template_keys)
    for key in gone:
        external = milestone_external_id(opp_id, key)
        if not state.milestones[key].pinned_fields():
            delete[external] = str(records[key]["Id"])
            continue
        sequence += 1
        kept.add(external)
        fields: dict[str, Any] = {SEQUENCE: sequence}
        if records[key].get(STATUS) not in FINISHED_STATUSES:
            fields[STATUS] = SKIPPED
        changed = {f: v for f, v in fields.items() if wire(records[key].get(f)) != wire(v)}
        if changed:
            changes.milestones.append(RecordChange(MILESTONE_OBJECT, external, changed, False))
        written = dict(shadows.get((MILESTONE_OBJECT, external), {}))
        written.update((f, wire(v)) for f, v in changed.items())
        changes.shadows[(MILESTONE_OBJECT, external)] = written
    return delete
