"""Check-ins: the next buyer/seller meeting of each plan, kept as a Task for the rep.

A plan meets on a cadence: the plan's ``Check_In_Cadence__c`` (rep-owned) when set, else its
template's ``check_in`` (weekly, every two weeks, monthly); ``No check-ins`` or neither
means none. For each active plan with a cadence mapsync keeps exactly one open Task
``MAP check-in: <Opportunity>`` owned by the Opportunity's owner, related to the Opportunity,
due one cadence after the last completed check-in (after today, for a plan's first), listing
the buyer's open outcomes in its description. Completing it (a rep closes the Task) makes
the next run schedule the one after; an open check-in's description follows the plan; a plan
without a cadence has its open mapsync check-in removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import structlog

from config.errors import SkippableRecordError
from connectors.salesforce.soql import quote
from mappings.model import CheckInCadence, StageMapping
from sync.cycle import Org
from sync.cycle.sobjects import MILESTONE_OBJECT, PLAN_OBJECT
from sync.jobs.share import FilesSalesforce

log = structlog.get_logger(__name__)
SUBJECT = "MAP check-in: "
NO_CHECK_INS = "No check-ins"
CHUNK = 200


@dataclass
class CheckInReport:
    scheduled: int = 0
    refreshed: int = 0  # open check-ins whose description followed the plan
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def cadence_of(plan: dict[str, Any], mapping: StageMapping) -> CheckInCadence | None:
    """The plan's own cadence, else its template's; None for no check-ins."""
    own = plan.get("Check_In_Cadence__c")
    if own == NO_CHECK_INS:
        return None
    if own:
        return CheckInCadence(own)
    template = mapping.template(str(plan.get("Template__c") or ""))
    return template.check_in if template else None


def next_check_in(cadence: CheckInCadence, last_completed: dt.date | None,
                  today: dt.date) -> dt.date:
    """One cadence after the last completed check-in, never before today."""
    if last_completed is None:
        return today + dt.timedelta(days=cadence.days)
    return max(today, last_completed + dt.timedelta(days=cadence.days))


def agenda(items: Sequence[dict[str, Any]]) -> str:
    """The Task's description: the buyer's open outcomes with their due dates."""
    if not items:
        return "Open buyer-side outcomes: none. Walk the plan and agree the next steps."
    lines = [f"- {m['Name']} (due {m.get('Due_Date__c') or 'to be agreed'}, "
             f"{str(m.get('Owner_Side__c') or '').lower()} side)" for m in items]
    return "Open buyer-side outcomes:\n" + "\n".join(lines)


def _ids(values: Sequence[str]) -> str:
    return ", ".join(quote(v) for v in values)


def keep_check_ins(org: Org, *, salesforce: FilesSalesforce | None = None) -> CheckInReport:
    """Schedule, refresh or remove each active plan's check-in Task."""
    client = salesforce or cast(FilesSalesforce, org.salesforce)
    report = CheckInReport()
    plans = list(client.query(
        f"SELECT Id, Opportunity__c, Template__c, Status__c, Check_In_Cadence__c, "
        f"Opportunity__r.Name, Opportunity__r.OwnerId FROM {PLAN_OBJECT} "
        f"ORDER BY Opportunity__c"))
    for start in range(0, len(plans), CHUNK):
        _chunk(org, client, plans[start:start + CHUNK], report)
    log.info("checkins.done", scheduled=report.scheduled, refreshed=report.refreshed,
             removed=report.removed, failed=len(report.failed))
    return report


def _chunk(org: Org, client: FilesSalesforce, plans: list[dict[str, Any]],
           report: CheckInReport) -> None:
    opp_ids = [str(p["Opportunity__c"]) for p in plans]
    tasks, items = client.composite_query([
        f"SELECT Id, WhatId, IsClosed, ActivityDate, Description, CreatedById FROM Task "
        f"WHERE WhatId IN ({_ids(opp_ids)}) AND Subject LIKE {quote(SUBJECT + '%')} "
        f"ORDER BY ActivityDate",
        f"SELECT Plan__c, Name, Due_Date__c, Owner_Side__c FROM {MILESTONE_OBJECT} "
        f"WHERE Plan__c IN ({_ids([str(p['Id']) for p in plans])}) "
        f"AND Owner_Side__c IN ('Buyer', 'Joint') AND Status__c NOT IN ('Done', 'Skipped') "
        f"ORDER BY Due_Date__c, Sequence__c"], include_deleted=False)
    today = org.clock().date()
    refresh: list[dict[str, Any]] = []
    remove: list[str] = []
    for plan in plans:
        opp = str(plan["Opportunity__c"])
        mine = [t for t in tasks if t["WhatId"] == opp]
        open_ = [t for t in mine if not t["IsClosed"]]
        cadence = cadence_of(plan, org.mapping) if plan.get("Status__c") == "Active" else None
        if cadence is None:
            remove += [t["Id"] for t in open_ if t["CreatedById"] == client.user_id]
            continue
        text = agenda([m for m in items if m["Plan__c"] == plan["Id"]])
        if open_:
            if open_[0].get("Description") != text:
                refresh.append({"Id": open_[0]["Id"], "Description": text})
            continue
        done = [dt.date.fromisoformat(t["ActivityDate"]) for t in mine if t["ActivityDate"]]
        opportunity = plan.get("Opportunity__r") or {}
        task = {"Subject": (SUBJECT + str(opportunity.get("Name") or opp))[:255],
                "WhatId": opp, "OwnerId": opportunity.get("OwnerId"),
                "ActivityDate": next_check_in(cadence, max(done, default=None),
                                              today).isoformat(),
                "Status": "Not Started", "Priority": "Normal", "Description": text}
        try:
            client.create("Task", task)
            report.scheduled += 1
        except SkippableRecordError as refused:
            report.failed.append((opp, str(refused)))
    if refresh:
        for result in client.update_auto("Task", refresh):
            report.refreshed += int(result.success)
    if remove:
        for result in client.delete(remove):
            report.removed += int(result.success)
