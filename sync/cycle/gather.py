"""Gather: every read a decision needs, from Salesforce and from the store, in one step.

Deciding is pure, so everything it looks at is read here first, for a chunk of touched
Opportunities at once: the Opportunities that did not change themselves, their plans and
milestones as Salesforce holds them now, their contact roles (to name buyer-side owners by
role, on a new plan and wherever an owner contact is still empty), and from the store the plan
index, the tombstones of plans reps deleted, and the shadow of what mapsync last wrote.
Salesforce's reads go into as few Composite requests as Salesforce allows (five queries each).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.batching import batched
from connectors.salesforce.soql import quote
from mappings.model import StageMapping
from sync.cycle.pull import Reader, Roles, Rows, roles_by_opportunity
from sync.cycle.sobjects import (
    CONTACT_ROLE,
    MILESTONE_FIELDS,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    OPPORTUNITY_FIELDS,
    PLAN_FIELDS,
    PLAN_OBJECT,
    milestone_external_id,
    opportunity_id_of,
)
from sync.store import Store, Transaction
from sync.store.records import PlanIndexEntry

IDS_PER_QUERY = 300  # keeps each query well inside Salesforce's URL and SOQL length limits
Shadows = dict[tuple[str, str], dict[str, Any]]  # (object, key) -> what mapsync last wrote


@dataclass
class Gathered:
    """What Salesforce and the store hold for the Opportunities of one chunk."""

    touched: list[str]
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Opportunity Id
    milestones: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # opp → key
    contact_roles: Roles = field(default_factory=dict)
    deleted_plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # pulled deletions
    index: dict[str, PlanIndexEntry] = field(default_factory=dict)
    tombstoned: set[str] = field(default_factory=set)
    shadows: Shadows = field(default_factory=dict)


def gather(reader: Reader, store: Store, mapping: StageMapping, org_id: str,
           touched: list[str], pulled: Rows, *, first_read: bool = False,
           roles: Roles | None = None) -> Gathered:
    """Read what deciding ``touched`` needs; ``pulled`` rows are not read again.

    ``first_read``: no watermark yet, so an Opportunity unknown to the plan index has no plan
    worth asking Salesforce for (unless a pulled plan or milestone names it). ``roles``: every
    contact role of the org, when the pull read them all.
    """
    out = Gathered(touched)
    pulled_opps = {str(r["Id"]): dict(r) for r in pulled.get(OPPORTUNITY, [])}
    for row in pulled.get(PLAN_OBJECT, []):
        opp = opportunity_id_of(PLAN_OBJECT, row)
        if opp and row.get("IsDeleted"):
            out.deleted_plans[opp] = row
    with store.transaction(write=False) as tx:
        out.index = dict(tx.plan_index(org_id, touched))
        out.tombstoned = set(tx.tombstoned_ids(org_id, touched))
    known = {o for o in touched if o in out.index or not first_read}
    known |= {opportunity_id_of(obj, r) or "" for obj in (PLAN_OBJECT, MILESTONE_OBJECT)
              for r in pulled.get(obj, [])}
    # every touched Opportunity's roles: a milestone new to a plan, or a Champion named
    # after the plan exists, fills the owner contacts still empty
    wanted = [o for o in touched if o not in out.tombstoned]
    _read_salesforce(reader, out,
                     opportunities=[o for o in touched if o not in pulled_opps],
                     plans=[o for o in touched if o in known and o not in out.tombstoned],
                     roles=wanted if roles is None else [])
    out.opportunities.update(pulled_opps)
    if roles is not None:
        out.contact_roles = {o: roles[o] for o in wanted if o in roles}
    with store.transaction(write=False) as tx:
        out.shadows = _shadows(tx, org_id, out, mapping)
    return out


def _in(ids: Sequence[str]) -> str:
    return quote(list(ids))


def _read_salesforce(reader: Reader, out: Gathered, *, opportunities: Sequence[str],
                     plans: Sequence[str], roles: Sequence[str]) -> None:
    queries: list[tuple[str, str]] = [
        (OPPORTUNITY, f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity "
                      f"WHERE Id IN {_in(chunk)}")
        for chunk in batched(opportunities, IDS_PER_QUERY)]
    for chunk in batched(plans, IDS_PER_QUERY):
        queries += [
            (PLAN_OBJECT, f"SELECT {', '.join(PLAN_FIELDS)} FROM {PLAN_OBJECT} "
                          f"WHERE External_Id__c IN {_in(chunk)}"),
            (MILESTONE_OBJECT, f"SELECT {', '.join(MILESTONE_FIELDS)} FROM {MILESTONE_OBJECT} "
                               f"WHERE Plan__r.External_Id__c IN {_in(chunk)} "
                               "ORDER BY Sequence__c")]
    queries += [
        (CONTACT_ROLE, "SELECT OpportunityId, ContactId, Role, IsPrimary FROM "
                       f"{CONTACT_ROLE} WHERE OpportunityId IN {_in(chunk)} "
                       "ORDER BY IsPrimary DESC, Id")
        for chunk in batched(roles, IDS_PER_QUERY)]
    if not queries:
        return
    results = reader.composite_query([q for _, q in queries], include_deleted=False)
    role_rows: list[dict[str, Any]] = []
    unkeyed: list[dict[str, Any]] = []  # milestones a rep added: no external id to name a plan
    for (sobject, _), rows in zip(queries, results, strict=True):
        for row in rows:
            if sobject == OPPORTUNITY:
                out.opportunities[row["Id"]] = row
            elif sobject == PLAN_OBJECT:
                out.plans[str(row["External_Id__c"])] = row
            elif sobject == MILESTONE_OBJECT:
                opp = opportunity_id_of(MILESTONE_OBJECT, row)
                if opp is not None:
                    out.milestones.setdefault(opp, {})[str(row["Key__c"])] = row
                else:
                    unkeyed.append(row)
            else:
                role_rows.append(row)
    by_plan_id = {str(p["Id"]): opp for opp, p in out.plans.items()}
    for row in unkeyed:  # known by their Id, and by their plan's Opportunity
        opp = by_plan_id.get(str(row.get("Plan__c")))
        if opp is not None:
            out.milestones.setdefault(opp, {})[str(row.get("Key__c") or row["Id"])] = row
    out.contact_roles = roles_by_opportunity(role_rows)


def _shadows(tx: Transaction, org_id: str, out: Gathered, mapping: StageMapping) -> Shadows:
    shadows: Shadows = {}
    for obj in (PLAN_OBJECT, OPPORTUNITY):
        for ext, rec in tx.shadow(org_id, obj, out.touched).items():
            shadows[(obj, ext)] = rec.fields
    keys = set(_milestone_keys(out.milestones))
    for opp_id, plan_record in out.plans.items():
        # Template keys too: a milestone mapsync wrote that Salesforce lacks was deleted by
        # a rep, and the shadow is how that is told apart from one never written.
        # the template mapsync wrote (service-owned), not one a rep typed over it
        written = shadows.get((PLAN_OBJECT, opp_id), {}).get("Template__c")
        template = mapping.template(str(written or plan_record.get("Template__c") or ""))
        for spec in template.milestones if template else ():
            keys.add(milestone_external_id(opp_id, spec.key))
    for ext, rec in tx.shadow(org_id, MILESTONE_OBJECT, sorted(keys)).items():
        shadows[(MILESTONE_OBJECT, ext)] = rec.fields
    return shadows


def _milestone_keys(milestones: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    for opp_id, by_key in milestones.items():
        for key in by_key:
            yield milestone_external_id(opp_id, key)
