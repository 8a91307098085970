"""The Salesforce shape of a plan: object names, the fields mapsync reads, external ids.

One module says what the plan looks like on the Salesforce side, so pull, gather, push and
the jobs agree on it. The names are the pinned API names of the custom objects shipped under
``connectors/salesforce/metadata`` (see ``docs/architecture.md``). External ids (a plan's is
its Opportunity's Id, a milestone's ``<Opportunity Id>:<milestone key>``) are coded by
``sync.planner.identity`` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.planner.identity import milestone_external_id as milestone_external_id
from sync.planner.identity import milestone_key_of as milestone_key_of
from sync.planner.identity import opportunity_of as opportunity_of
from sync.planner.model import OPPORTUNITY_ROLLUP_FIELDS

OPPORTUNITY = "Opportunity"
PLAN_OBJECT = "Mutual_Action_Plan__c"
MILESTONE_OBJECT = "MAP_Milestone__c"
CONTACT_ROLE = "OpportunityContactRole"
TEAM_MEMBER = "OpportunityTeamMember"
SYNCED_OBJECTS = (OPPORTUNITY, PLAN_OBJECT, MILESTONE_OBJECT)
# Salesforce's own record of who changed what: milestone field history and stage history.
MILESTONE_HISTORY = "MAP_Milestone__History"
OPPORTUNITY_HISTORY = "OpportunityHistory"
HISTORY_OBJECTS = (MILESTONE_HISTORY, OPPORTUNITY_HISTORY)

# A milestone's Task: the standard Task on the Opportunity, keyed by a custom activity field
# holding the milestone's external id; the milestone names its Task in ``Task_Id__c``.
TASK = "Task"
TASK_KEY_FIELD = "MAP_External_Id__c"
TASK_ID_FIELD = "Task_Id__c"

EXTERNAL_ID_FIELD = "External_Id__c"
UPSERT_KEY = {PLAN_OBJECT: EXTERNAL_ID_FIELD, MILESTONE_OBJECT: EXTERNAL_ID_FIELD,
              OPPORTUNITY: "Id", TASK: TASK_KEY_FIELD}

_SYSTEM = ("Id", "IsDeleted", "SystemModstamp", "LastModifiedById")
OPPORTUNITY_FIELDS = (*_SYSTEM, "Name", "StageName", "CloseDate", "Amount", "Type",
                      "AccountId", "OwnerId", *sorted(OPPORTUNITY_ROLLUP_FIELDS))
PLAN_FIELDS = (*_SYSTEM, EXTERNAL_ID_FIELD, "Name", "Opportunity__c", "Template__c",
               "Status__c", "Health__c", "Percent_Complete__c", "Target_Close_Date__c",
               "Projected_Close_Date__c", "Go_Live_Date__c", "Days_Slipped__c", "Slip_Cause__c",
               "Next_Milestone__c", "Next_Due_Date__c", "Summary__c", "Success_Criteria__c",
               "Buyer_On_Time_Rate__c", "Seller_On_Time_Rate__c", "Last_Progress_Date__c",
               "Days_Since_Progress__c", "Compelling_Event_Date__c", "Compelling_Event__c",
               "Mapping_Version__c")
MILESTONE_FIELDS = (*_SYSTEM, EXTERNAL_ID_FIELD, "Plan__c", "Name", "Key__c", "Sequence__c",
                    "Stage__c", "Owner_Side__c", "Owner_Role__c", "Owner_Contact__c",
                    "Owner_User__c",
                    "Baseline_Due_Date__c", "Due_Date__c", "Completed_Date__c", "Status__c",
                    "Days_Slipped__c", "Depends_On__c", "Why_It_Matters__c", "Notes__c",
                    TASK_ID_FIELD)
TASK_FIELDS = ("Id", "IsDeleted", "LastModifiedById", TASK_KEY_FIELD, "WhatId", "Subject",
               "ActivityDate", "Status", "IsClosed", "CompletedDateTime", "OwnerId",
               "ReminderDateTime", "IsReminderSet")
FIELDS = {OPPORTUNITY: OPPORTUNITY_FIELDS, PLAN_OBJECT: PLAN_FIELDS,
          MILESTONE_OBJECT: MILESTONE_FIELDS}
CONTACT_ROLE_FIELDS = ("OpportunityId", "ContactId", "Role", "IsPrimary", "IsDeleted")
# Objects the poll has no query for: asked by Get Updated / Get Deleted in the same request
# (``sync.cycle.updated``), then read by Id with these fields; each names its Opportunity.
POLLED_BY_UPDATES: dict[str, tuple[str, ...]] = {
    CONTACT_ROLE: ("OpportunityId", "ContactId", "Role", "IsPrimary"),
    TEAM_MEMBER: ("OpportunityId", "UserId", "TeamMemberRole"),
    TASK: (TASK_KEY_FIELD, "WhatId"),  # a rep working a milestone's Task
}
TEAM_FIELDS = ("OpportunityId", "UserId", "TeamMemberRole", "IsDeleted")
HISTORY_FIELDS = {
    MILESTONE_HISTORY: ("Id", "ParentId", "Parent.External_Id__c", "Field", "CreatedById",
                        "CreatedDate"),
    OPPORTUNITY_HISTORY: ("Id", "OpportunityId", "StageName", "CloseDate", "Amount",
                          "CreatedById", "CreatedDate"),
}


def opportunity_id_of(sobject: str, record: Mapping[str, Any]) -> str | None:
    """The Opportunity a synced record (or a history row of one) belongs to (``None`` for a
    record without a key)."""
    if sobject == OPPORTUNITY:
        return str(record["Id"])
    if sobject in (OPPORTUNITY_HISTORY, CONTACT_ROLE, TEAM_MEMBER):
        return str(record["OpportunityId"]) if record.get("OpportunityId") else None
    if sobject == TASK:  # a milestone's Task names its milestone; other Tasks touch nothing
        external = record.get(TASK_KEY_FIELD)
        return opportunity_of(str(external)) if external else None
    if sobject == MILESTONE_HISTORY:
        external = (record.get("Parent") or {}).get(EXTERNAL_ID_FIELD)
        return opportunity_of(str(external)) if external else None
    external = record.get(EXTERNAL_ID_FIELD)
    return opportunity_of(str(external)) if external else None
