"""The share job: each plan's buyer document kept as one Salesforce File on its Opportunity.

For the plans asked for (``mapsync share``) or whose template says ``share: true`` (the
worker), it reads what the buyer's copy shows — plan, milestones, Opportunity, contact roles,
the org's name — a few Composite calls per 200 plans, builds the buyer's plan
(``sync.share``), and compares its digest with the one recorded on the plan
(``Shared_Digest__c``):

- unchanged: nothing is written (no API call beyond the reads);
- never shared, or its File was deleted: a ContentVersion with ``FirstPublishLocationId`` =
  the Opportunity, which makes the File and links it there;
- changed: a ContentVersion with the File's ``ContentDocumentId``, its next version, so the
  Opportunity keeps one File with a history, never a pile of copies.

Then the plans record the version, its digest and the time (``Shared_Version_Id__c``,
``Shared_Digest__c``, ``Last_Shared_At__c``) in one Collections update per 200. A plan whose
File Salesforce refuses is reported and left for the next run; the others carry on.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import structlog

from config.errors import SkippableRecordError
from connectors.salesforce.results import RecordResult
from connectors.salesforce.soql import quote
from mappings.model import StageMapping
from sync.cycle import Org
from sync.cycle.org import Salesforce
from sync.cycle.sobjects import MILESTONE_OBJECT, PLAN_OBJECT
from sync.share import SharedPlan, file_name, render_pdf, shared_plan

log = structlog.get_logger(__name__)
CHUNK = 200

PLAN_COLUMNS = (
    "Id, Opportunity__c, Template__c, Status__c, Summary__c, Success_Criteria__c, "
    "Target_Close_Date__c, Projected_Close_Date__c, Go_Live_Date__c, Days_Slipped__c, "
    "Percent_Complete__c, Compelling_Event__c, Compelling_Event_Date__c, Resources__c, "
    "Shared_Version_Id__c, Shared_Digest__c, Opportunity__r.Name, Opportunity__r.CloseDate, "
    "Opportunity__r.Account.Name, "
    "Opportunity__r.Owner.Name, Opportunity__r.Owner.Email, Opportunity__r.Owner.Title")
MILESTONE_COLUMNS = (
    "Plan__c, Name, Why_It_Matters__c, Sequence__c, Owner_Side__c, Owner_Role__c, "
    "Owner_Contact__r.Name, Baseline_Due_Date__c, Due_Date__c, Completed_Date__c, Status__c, "
    "Days_Slipped__c")
ROLE_COLUMNS = "OpportunityId, Role, IsPrimary, Contact.Name, Contact.Email"


class FilesSalesforce(Salesforce, Protocol):
    """The Salesforce seam plus single-record inserts (a File's content goes one a call) and
    updates by Id (plans' and check-in Tasks' links to their Files)."""

    def create(self, sobject: str, record: dict[str, Any]) -> str: ...

    def update_auto(self, sobject: str, records: Sequence[dict[str, Any]],
                    group_key: Any = None) -> list[RecordResult]: ...


@dataclass
class ShareReport:
    """What one share run did, plan by plan counted."""

    created: int = 0  # Files made (first versions)
    versioned: int = 0  # new versions of existing Files
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (Opportunity Id, why)

    @property
    def shared(self) -> int:
        return self.created + self.versioned


def shared_templates(mapping: StageMapping) -> tuple[str, ...]:
    """The templates whose plans the worker shares (``share: true``)."""
    return tuple(t.name for t in mapping.templates if t.share)


def _ids(values: Iterable[str]) -> str:
    return ", ".join(quote(v) for v in values)


def plan_query(templates: Sequence[str] | None, opportunity_ids: Sequence[str] | None) -> str:
    where = ["Status__c != null"]
    if templates is not None:
        where.append(f"Template__c IN ({_ids(templates) or quote('')})")
    if opportunity_ids is not None:
        where.append(f"Opportunity__c IN ({_ids(opportunity_ids) or quote('')})")
    return (f"SELECT {PLAN_COLUMNS} FROM {PLAN_OBJECT} WHERE {' AND '.join(where)} "
            "ORDER BY Opportunity__c")


def _group(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(str(row[key]), []).append(row)
    return out


def documents(org: Org, plans: Sequence[dict[str, Any]],
              seller: str | None) -> list[tuple[dict[str, Any], SharedPlan]]:
    """The buyer's plan of each plan row (two Composite reads: milestones and roles)."""
    salesforce = org.salesforce
    plan_ids = [str(p["Id"]) for p in plans]
    opp_ids = [str(p["Opportunity__c"]) for p in plans]
    milestones, roles = salesforce.composite_query([
        f"SELECT {MILESTONE_COLUMNS} FROM {MILESTONE_OBJECT} WHERE Plan__c IN ({_ids(plan_ids)})",
        f"SELECT {ROLE_COLUMNS} FROM OpportunityContactRole "
        f"WHERE OpportunityId IN ({_ids(opp_ids)})"], include_deleted=False)
    by_plan, by_opp = _group(milestones, "Plan__c"), _group(roles, "OpportunityId")
    today = org.clock().date()
    out = []
    for plan in plans:
        template = org.mapping.template(str(plan.get("Template__c") or ""))
        out.append((plan, shared_plan(
            opportunity=plan.get("Opportunity__r") or {}, plan=plan,
            milestones=by_plan.get(str(plan["Id"]), []),
            contact_roles=by_opp.get(str(plan["Opportunity__c"]), []),
            resources=template.resources if template else (), seller=seller, today=today)))
    return out


def seller_name(salesforce: Salesforce) -> str | None:
    """The selling company's name as its org has it (shown on the buyer's copy)."""
    rows = list(salesforce.query("SELECT Name FROM Organization LIMIT 1"))
    return str(rows[0]["Name"]) if rows else None


def _document_of(salesforce: Salesforce, version_ids: Sequence[str]) -> dict[str, str]:
    """ContentDocumentId of each live version (a File a rep deleted is absent)."""
    if not version_ids:
        return {}
    rows = salesforce.composite_query([
        f"SELECT Id, ContentDocumentId FROM ContentVersion WHERE Id IN ({_ids(version_ids)})"],
        include_deleted=False)[0]
    return {str(r["Id"]): str(r["ContentDocumentId"]) for r in rows}


def share_plans(org: Org, *, templates: Sequence[str] | None = None,
                opportunity_ids: Sequence[str] | None = None,
                salesforce: FilesSalesforce | None = None) -> ShareReport:
    """Share the plans of ``templates`` (all when None) or of ``opportunity_ids``."""
    client = salesforce or cast(FilesSalesforce, org.salesforce)
    report = ShareReport()
    plans = list(client.query(plan_query(templates, opportunity_ids)))
    seller = seller_name(client) if plans else None
    for start in range(0, len(plans), CHUNK):
        chunk = plans[start:start + CHUNK]
        changed = [(p, d) for p, d in documents(org, chunk, seller)
                   if not (p.get("Shared_Version_Id__c")
                           and p.get("Shared_Digest__c") == d.digest())]
        report.unchanged += len(chunk) - len(changed)
        files = _document_of(client, [str(p["Shared_Version_Id__c"]) for p, _ in changed
                                      if p.get("Shared_Version_Id__c")])
        updates = []
        for plan, document in changed:
            update = _share_one(client, plan, document, files, report, org.clock())
            if update is not None:
                updates.append(update)
        if updates:
            for plan_update, result in zip(updates, client.update_auto(PLAN_OBJECT, updates),
                                           strict=True):
                if not result.success:
                    report.failed.append((str(plan_update["Id"]), result.message))
    log.info("share.done", created=report.created, versioned=report.versioned,
             unchanged=report.unchanged, failed=len(report.failed))
    return report


def _share_one(client: FilesSalesforce, plan: dict[str, Any], document: SharedPlan,
               files: dict[str, str], report: ShareReport,
               now: dt.datetime) -> dict[str, Any] | None:
    """Add the plan's File version; the plan's update recording it (None when refused)."""
    content = render_pdf(document)
    record: dict[str, Any] = {"Title": f"{document.title}: Mutual Action Plan",
                              "PathOnClient": file_name(document),
                              "VersionData": base64.b64encode(content).decode("ascii")}
    existing = files.get(str(plan.get("Shared_Version_Id__c") or ""))
    if existing:
        record.update(ContentDocumentId=existing, ReasonForChange="The plan changed")
    else:
        record["FirstPublishLocationId"] = plan["Opportunity__c"]
    try:
        version_id = client.create("ContentVersion", record)
    except SkippableRecordError as refused:
        report.failed.append((str(plan["Opportunity__c"]), str(refused)))
        log.warning("share.refused", opportunity=plan["Opportunity__c"], error=str(refused))
        return None
    if existing:
        report.versioned += 1
    else:
        report.created += 1
    return {"Id": plan["Id"], "Shared_Version_Id__c": version_id,
            "Shared_Digest__c": document.digest(), "Last_Shared_At__c": now.isoformat()}
