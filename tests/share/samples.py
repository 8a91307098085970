"""A plan as Salesforce rows (what the share job reads), with internal values planted in
the fields the buyer must never see, so a test can look for them in the output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mappings.model import ResourceSpec
from sync.share import SharedPlan, shared_plan

TODAY = dt.date(2026, 11, 30)
INTERNAL = ("INTERNAL-NOTE-7731", "SLIP-CAUSE-INTERNAL", "HEALTH-THRESHOLD", "a0B000000000001")


def rows(**plan_changes: Any) -> dict[str, Any]:
    opportunity = {"Name": "Initech – Platform", "CloseDate": "2027-01-29",
                   "Account": {"Name": "Initech"},
                   "Owner": {"Name": "Dana Seller", "Email": "dana@acme.example",
                             "Title": "Account Executive"}}
    plan = {"Id": INTERNAL[3], "Status__c": "Active", "Health__c": INTERNAL[2],
            "Summary__c": "Support loses 30 hours a week to manual triage <script>x</script>",
            "Success_Criteria__c": "Triage time halved in the pilot team.",
            "Target_Close_Date__c": "2027-01-29", "Projected_Close_Date__c": "2027-02-05",
            "Go_Live_Date__c": "2027-03-15", "Days_Slipped__c": 5, "Percent_Complete__c": 37.5,
            "Compelling_Event__c": "Peak season starts", "Compelling_Event_Date__c": "2027-04-01",
            "Resources__c": "Security pack | https://acme.example/security\nnot a link line",
            "Slip_Cause__c": INTERNAL[1], **plan_changes}
    milestones = [
        {"Name": "Discovery completed", "Why_It_Matters__c": "The problem is written down.",
         "Sequence__c": 1, "Owner_Side__c": "Joint", "Owner_Role__c": "Champion",
         "Owner_Contact__r": {"Name": "Pat Buyer"}, "Baseline_Due_Date__c": "2026-11-20",
         "Due_Date__c": "2026-11-20", "Completed_Date__c": "2026-11-19", "Status__c": "Done",
         "Days_Slipped__c": 0, "Notes__c": INTERNAL[0]},
        {"Name": "Security review", "Why_It_Matters__c": "InfoSec signs off.",
         "Sequence__c": 2, "Owner_Side__c": "Buyer", "Owner_Role__c": "IT Security",
         "Owner_Contact__r": {"Name": "Sam Secure"}, "Baseline_Due_Date__c": "2026-11-25",
         "Due_Date__c": "2026-12-02", "Completed_Date__c": None, "Status__c": "In Progress",
         "Days_Slipped__c": 5, "Notes__c": INTERNAL[0]},
        {"Name": "Go-live", "Why_It_Matters__c": None, "Sequence__c": 3,
         "Owner_Side__c": "Seller", "Owner_Role__c": "Project lead", "Owner_Contact__r": None,
         "Baseline_Due_Date__c": "2027-03-15", "Due_Date__c": "2027-03-15",
         "Completed_Date__c": None, "Status__c": "Not Started", "Days_Slipped__c": 0},
    ]
    roles = [{"Role": "Economic Buyer", "IsPrimary": True,
              "Contact": {"Name": "Pat Buyer", "Email": "pat@initech.example"}}]
    return {"opportunity": opportunity, "plan": plan, "milestones": milestones,
            "contact_roles": roles}


def sample(today: dt.date = TODAY, **plan_changes: Any) -> SharedPlan:
    return shared_plan(**rows(**plan_changes), seller="Acme",
                       resources=[ResourceSpec(title="Customer stories",
                                               link="https://acme.example/stories")],
                       today=today)
