"""Gather: every read a decision needs, from Salesforce and from the store, in one step.

Deciding is pure, so everything it looks at is read here first, for a chunk of touched
Opportunities at once: the Opportunities that did not change themselves, their plans and
milestones as Salesforce holds them now, the last value reps set to each rep-pinnable field
of those milestones (Salesforce's field history: who changed a field last is Salesforce's
record, not the store's), their contact roles (to name buyer-side owners by role, on a new
plan and wherever an owner contact is still empty) and Opportunity Team members (to name the
seller-side owner of each role), and from the store the plan index, the
tombstones of plans reps deleted, and the shadow of what mapsync last wrote (a cache: losing
it loses no rep's pin). When the mapping keeps milestones as Tasks, the Tasks mapsync keeps
on those Opportunities too (deleted ones included: a Task a rep deleted is not recreated).
Salesforce's reads go into as few Composite requests as Salesforce allows (five queries each).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.batching import batched
from connectors.salesforce.soql import quote
from mappings.model import StageMapping
from sync.cycle.pull import Reader, Roles, Rows, Team, roles_by_opportunity, team_by_opportunity
from sync.cycle.sobjects import (
    CONTACT_ROLE,
    MILESTONE_FIELDS,
    MILESTONE_HISTORY,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    OPPORTUNITY_FIELDS,
    PLAN_FIELDS,
    PLAN_OBJECT,
    TASK,
    TASK_FIELDS,
    TASK_KEY_FIELD,
    TEAM_FIELDS,
    TEAM_MEMBER,
    milestone_external_id,
    opportunity_id_of,
)
from sync.planner.model import REP_CHOSEN_MILESTONE_FIELDS, REP_PINNABLE_MILESTONE_FIELDS
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
    rep_values: dict[str, dict[str, Any]] = field(default_factory=dict)  # milestone Id → field
    rep_set_at: dict[str, dict[str, str]] = field(default_factory=dict)  # ... → when, by a rep
    tasks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # opp → ms key
    deleted_tasks: set[str] = field(default_factory=set)  # milestone keys: Task in the bin
    contact_roles: Roles = field(default_factory=dict)
    team: Team = field(default_factory=dict)  # Opportunity Team members by Opportunity Id
    deleted_plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # in the recycle bin
    deleted_milestones: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    index: dict[str, PlanIndexEntry] = field(default_factory=dict)
    tombstoned: set[str] = field(default_factory=set)
    shadows: Shadows = field(default_factory=dict)


def gather(reader: Reader, store: Store, mapping: StageMapping, org_id: str,
           touched: list[str], pulled: Rows, *, first_read: bool = False,
           roles: Roles | None = None, me: str | None = None, team: Team | None = None,
           teams: bool = True) -> Gathered:
    """Read what deciding ``touched`` needs; ``pulled`` rows are not read again.

    ``first_read``: no watermark yet, so an Opportunity unknown to the plan index has no plan
    worth asking Salesforce for (unless a pulled plan or milestone names it). ``roles``: every
    contact role of the org, when the pull read them all; ``team`` likewise, every
    Opportunity Team member (``teams``: the org has teams to read at all). ``me``: mapsync's
    own user, whose history rows are not a rep's.
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
                     roles=wanted if roles is None else [], me=me,
                     team=wanted if team is None and teams else [],
                     tasks=any(mapping.tasks_for(t.name).sides for t in mapping.templates))
    out.opportunities.update(pulled_opps)
    for opp in out.plans:  # a live plan outweighs a deleted one of the same Opportunity
        out.deleted_plans.pop(opp, None)
    if roles is not None:
        out.contact_roles = {o: roles[o] for o in wanted if o in roles}
    if team is not None:
        out.team = {o: team[o] for o in wanted if o in team}
    with store.transaction(write=False) as tx:
        out.shadows = _shadows(tx, org_id, out, mapping)
    return out


@dataclass(frozen=True)
class OrgHolds:
    """Whether the org holds any plan and any contact role (deleted ones included): a job
    over thousands of Opportunities of an org without any reads neither per Opportunity."""

    plans: bool = True
    contact_roles: bool = True

    @classmethod
    def probe(cls, reader: Reader) -> OrgHolds:
        """One Composite call of two one-row queries (``queryAll``)."""
        plans, roles = reader.composite_query([
            f"SELECT Id FROM {PLAN_OBJECT} LIMIT 1",
            f"SELECT Id FROM {CONTACT_ROLE} LIMIT 1"], include_deleted=True)
        return cls(plans=bool(plans), contact_roles=bool(roles))


def _in(ids: Sequence[str]) -> str:
    return quote(list(ids))


def _read_salesforce(reader: Reader, out: Gathered, *, opportunities: Sequence[str],
                     plans: Sequence[str], roles: Sequence[str], me: str | None,
                     team: Sequence[str], tasks: bool = False) -> None:
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
                               "ORDER BY Sequence__c"),
            (MILESTONE_HISTORY, rep_history_soql(chunk, me))]
        if tasks:
            queries.append((TASK, tasks_soql(chunk)))
    queries += [
        (CONTACT_ROLE, "SELECT OpportunityId, ContactId, Role, IsPrimary, IsDeleted FROM "
                       f"{CONTACT_ROLE} WHERE OpportunityId IN {_in(chunk)} "
                       "ORDER BY IsPrimary DESC, Id")
        for chunk in batched(roles, IDS_PER_QUERY)]
    queries += [
        (TEAM_MEMBER, f"SELECT {', '.join(TEAM_FIELDS)} FROM {TEAM_MEMBER} "
                      f"WHERE OpportunityId IN {_in(chunk)} ORDER BY CreatedDate, Id")
        for chunk in batched(team, IDS_PER_QUERY)]
    if not queries:
        return
    # queryAll: what reps deleted is Salesforce's record too (the recycle bin, 15 days), so a
    # plan or milestone a rep deleted is known as such whatever the local store remembers.
    results = reader.composite_query([q for _, q in queries], include_deleted=True)
    role_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    unkeyed: list[dict[str, Any]] = []  # milestones a rep added: no external id to name a plan
    for (sobject, _), rows in zip(queries, results, strict=True):
        for row in rows:
            deleted = bool(row.get("IsDeleted"))
            if sobject == OPPORTUNITY:
                out.opportunities[row["Id"]] = row
            elif sobject == PLAN_OBJECT:
                plan_of = str(row["External_Id__c"])
                if not deleted:
                    out.plans[plan_of] = row
                elif plan_of not in out.deleted_plans:
                    out.deleted_plans[plan_of] = row
            elif sobject == MILESTONE_OBJECT:
                milestone_of = opportunity_id_of(MILESTONE_OBJECT, row)
                if milestone_of is not None:
                    into = out.deleted_milestones if deleted else out.milestones
                    into.setdefault(milestone_of, {})[str(row["Key__c"])] = row
                elif not deleted:
                    unkeyed.append(row)
            elif sobject == TASK:
                key = str(row[TASK_KEY_FIELD])
                if deleted:
                    out.deleted_tasks.add(key)
                else:
                    out.tasks.setdefault(str(row["WhatId"]), {})[key] = row
            elif deleted:
                continue  # history and contact roles of deleted records
            elif sobject == MILESTONE_HISTORY:  # in time order: the last value set wins
                if row.get("Field") in REP_CHOSEN_MILESTONE_FIELDS and \
                        row.get("DataType") not in (None, "EntityId"):
                    continue  # a lookup's change has a row of names too: the Ids decide
                out.rep_values.setdefault(str(row["ParentId"]), {})[str(row["Field"])] = \
                    row.get("NewValue")
                out.rep_set_at.setdefault(str(row["ParentId"]), {})[str(row["Field"])] = \
                    str(row.get("CreatedDate") or "")
            elif sobject == TEAM_MEMBER:
                member_rows.append(row)
            else:
                role_rows.append(row)
    by_plan_id = {str(p["Id"]): opp for opp, p in out.plans.items()}
    for row in unkeyed:  # known by their Id, and by their plan's Opportunity
        opp = by_plan_id.get(str(row.get("Plan__c")))
        if opp is not None:
            out.milestones.setdefault(opp, {})[str(row.get("Key__c") or row["Id"])] = row
    out.contact_roles = roles_by_opportunity(role_rows)
    out.team = team_by_opportunity(member_rows)


def rep_history_soql(opportunity_ids: Sequence[str], me: str | None) -> str:
    """The rep-pinnable field changes reps made to the milestones of these plans, and the
    owners they chose, oldest first (``NewValue`` of the last one is the rep's value)."""
    who = f" AND CreatedById != {quote(me)}" if me else ""
    decided = sorted(REP_PINNABLE_MILESTONE_FIELDS | REP_CHOSEN_MILESTONE_FIELDS)
    return (f"SELECT ParentId, Field, DataType, NewValue, CreatedDate, IsDeleted "
            f"FROM {MILESTONE_HISTORY} "
            f"WHERE Parent.Plan__r.External_Id__c IN {_in(opportunity_ids)} "
            f"AND Field IN {quote(decided)}{who} "
            "ORDER BY CreatedDate, Id")


def tasks_soql(opportunity_ids: Sequence[str]) -> str:
    """The Tasks mapsync keeps for milestones on these Opportunities."""
    return (f"SELECT {', '.join(TASK_FIELDS)} FROM {TASK} WHERE WhatId IN "
            f"{_in(opportunity_ids)} AND {TASK_KEY_FIELD} != null ORDER BY Id")


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
    keys |= {k for by_key in out.tasks.values() for k in by_key}
    for ext, rec in tx.shadow(org_id, TASK, sorted(keys)).items():
        shadows[(TASK, ext)] = rec.fields
    return shadows


def _milestone_keys(milestones: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    for opp_id, by_key in milestones.items():
        for key in by_key:
            yield milestone_external_id(opp_id, key)
