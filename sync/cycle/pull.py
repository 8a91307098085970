"""Pull: what changed in Salesforce since the last cycle, and the context to plan it.

One cycle reads, in as few calls as Salesforce allows (queries bundled five to a Composite
request, so a poll that finds nothing costs one call):

1. changes — Opportunities, plans and milestones whose ``SystemModstamp`` is at or after the
   watermark minus the lookback, via ``queryAll`` so deletions arrive, ordered by
   ``(SystemModstamp, Id)``. Rows last modified by mapsync's own user are left out: they are
   the echo of its own writes, and leaving them out is what lets a cycle with nothing
   changed cost one call. (A rep's edit that mapsync overwrites on the same record within
   the same seconds is then seen by the nightly reconcile, not by the next cycle.)
2. context — for every Opportunity touched (its own change, or a change to its plan or
   milestones): the Opportunity itself if it did not change, its plan and milestones as
   Salesforce holds them now, and its contact roles (to name buyer-side owners by role).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.salesforce.soql import quote
from sync.cycle.watermark import soql_stamp
from sync.planner.model import OPPORTUNITY_ROLLUP_FIELDS
from sync.store.records import Watermark

OPPORTUNITY = "Opportunity"
PLAN = "Mutual_Action_Plan__c"
MILESTONE = "MAP_Milestone__c"
CONTACT_ROLE = "OpportunityContactRole"
OBJECTS = (OPPORTUNITY, PLAN, MILESTONE)

_SYSTEM = ("Id", "IsDeleted", "SystemModstamp", "LastModifiedById")
OPPORTUNITY_FIELDS = (*_SYSTEM, "Name", "StageName", "CloseDate", "Amount", "Type",
                      "AccountId", *sorted(OPPORTUNITY_ROLLUP_FIELDS))
PLAN_FIELDS = (*_SYSTEM, "External_Id__c", "Name", "Opportunity__c", "Template__c", "Status__c",
               "Health__c", "Percent_Complete__c", "Target_Close_Date__c",
               "Projected_Close_Date__c", "Go_Live_Date__c", "Days_Slipped__c", "Slip_Cause__c",
               "Next_Milestone__c", "Next_Due_Date__c", "Summary__c", "Success_Criteria__c")
MILESTONE_FIELDS = (*_SYSTEM, "External_Id__c", "Plan__c", "Name", "Key__c", "Sequence__c",
                    "Stage__c", "Owner_Side__c", "Owner_Role__c", "Owner_Contact__c",
                    "Baseline_Due_Date__c", "Due_Date__c", "Completed_Date__c", "Status__c",
                    "Days_Slipped__c", "Depends_On__c", "Why_It_Matters__c", "Notes__c")
FIELDS = {OPPORTUNITY: OPPORTUNITY_FIELDS, PLAN: PLAN_FIELDS, MILESTONE: MILESTONE_FIELDS}

IDS_PER_QUERY = 300  # keeps each query well inside Salesforce's URL and SOQL length limits


class Reader(Protocol):
    """What pull needs of the Salesforce connector."""

    def composite_query(self, soqls: Sequence[str], *,
                        include_deleted: bool = True) -> list[list[dict[str, Any]]]: ...


def changes_soql(sobject: str, since: dt.datetime | None, me: str | None) -> str:
    """The query for one object's changes since ``since`` (all rows when ``None``)."""
    where = []
    if since is not None:
        where.append(f"SystemModstamp >= {soql_stamp(since)}")
    if me:
        where.append(f"LastModifiedById != {quote(me)}")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"SELECT {', '.join(FIELDS[sobject])} FROM {sobject}{clause} "
            "ORDER BY SystemModstamp, Id")


ROLES_SOQL = ("SELECT OpportunityId, ContactId, Role, IsPrimary, IsDeleted FROM "
              "OpportunityContactRole ORDER BY OpportunityId, IsPrimary DESC, Id")


@dataclass
class Changes:
    """Rows read by the change queries, per object (new and already-seen alike).

    ``roles`` holds every contact role of the org on a first read (``None`` otherwise): when
    every Opportunity is new, one paged query is cheaper than asking by Opportunity Id.
    """

    rows: dict[str, list[dict[str, Any]]]
    roles: dict[str, list[tuple[str, str]]] | None = None


def read_changes(reader: Reader, marks: Mapping[str, Watermark | None],
                 lookback: dt.timedelta, me: str | None) -> Changes:
    """One Composite request (plus pages) for the changes of every synced object."""
    soqls = []
    for sobject in OBJECTS:
        mark = marks.get(sobject)
        since = None if mark is None else mark.systemmodstamp - lookback
        soqls.append(changes_soql(sobject, since, me))
    first_read = marks.get(OPPORTUNITY) is None
    if first_read:
        soqls.append(ROLES_SOQL)
    results = reader.composite_query(soqls, include_deleted=True)
    changes = Changes(rows=dict(zip(OBJECTS, results[:len(OBJECTS)], strict=True)))
    if first_read:
        changes.roles = roles_by_opportunity(r for r in results[-1] if not r.get("IsDeleted"))
    return changes


def roles_by_opportunity(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Contact roles as ``{Opportunity Id: [(role, contact Id), ...]}``, in row order."""
    roles: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        if row.get("ContactId"):
            roles[str(row["OpportunityId"])].append((str(row.get("Role") or ""),
                                                     str(row["ContactId"])))
    return dict(roles)


def opportunity_id_of(sobject: str, record: Mapping[str, Any]) -> str | None:
    """The Opportunity a synced record belongs to, from its external id."""
    if sobject == OPPORTUNITY:
        return str(record["Id"])
    external = record.get("External_Id__c")
    if not external:
        return None
    return str(external).split(":", 1)[0]


@dataclass
class Context:
    """What Salesforce holds now for the Opportunities a cycle plans."""

    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Opportunity Id
    milestones: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # opp → key
    contact_roles: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _chunks(ids: Sequence[str], size: int = IDS_PER_QUERY) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def _in(ids: Sequence[str]) -> str:
    return quote(list(ids))


def read_context(reader: Reader, *, need_opportunities: Sequence[str],
                 need_plans: Sequence[str], need_roles: Sequence[str]) -> Context:
    """Opportunities, live plans with their milestones, and contact roles, by Opportunity Id.

    Every query goes into as few Composite requests as possible (five queries each).
    """
    queries: list[tuple[str, str]] = []
    for chunk in _chunks(need_opportunities):
        queries.append((OPPORTUNITY, f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity "
                                     f"WHERE Id IN {_in(chunk)}"))
    for chunk in _chunks(need_plans):
        queries.append((PLAN, f"SELECT {', '.join(PLAN_FIELDS)} FROM {PLAN} "
                              f"WHERE External_Id__c IN {_in(chunk)}"))
        queries.append((MILESTONE, f"SELECT {', '.join(MILESTONE_FIELDS)} FROM {MILESTONE} "
                                   f"WHERE Plan__r.External_Id__c IN {_in(chunk)} "
                                   "ORDER BY Sequence__c"))
    for chunk in _chunks(need_roles):
        queries.append((CONTACT_ROLE, "SELECT OpportunityId, ContactId, Role, IsPrimary FROM "
                                      f"OpportunityContactRole WHERE OpportunityId IN "
                                      f"{_in(chunk)} ORDER BY IsPrimary DESC, Id"))
    context = Context()
    if not queries:
        return context
    results = reader.composite_query([q for _, q in queries], include_deleted=False)
    role_rows: list[dict[str, Any]] = []
    for (sobject, _), rows in zip(queries, results, strict=True):
        for row in rows:
            if sobject == OPPORTUNITY:
                context.opportunities[row["Id"]] = row
            elif sobject == PLAN:
                context.plans[str(row["External_Id__c"])] = row
            elif sobject == MILESTONE:
                opp = opportunity_id_of(MILESTONE, row)
                if opp is not None:
                    context.milestones.setdefault(opp, {})[str(row["Key__c"])] = row
            else:
                role_rows.append(row)
    context.contact_roles = roles_by_opportunity(role_rows)
    return context
