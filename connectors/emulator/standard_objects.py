"""The standard objects of the local org, declared as Salesforce describes them.

mapsync reads Opportunities, their stages, accounts, contacts and contact roles, and users;
the emulator declares those objects here with their real key prefixes, system fields and
standard picklists (the stage list and its probabilities come from a new Salesforce org),
so describe, validation and SOQL behave as in a real org. Custom objects are added to this
schema from the sfdx metadata at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.emulator.schema import FieldDef, Schema, SObjectDef


@dataclass(frozen=True)
class Stage:
    """One standard Opportunity stage (a row of OpportunityStage)."""

    name: str
    probability: int
    forecast_category: str
    is_closed: bool = False
    is_won: bool = False


STANDARD_STAGES: tuple[Stage, ...] = (
    Stage("Prospecting", 10, "Pipeline"),
    Stage("Qualification", 10, "Pipeline"),
    Stage("Needs Analysis", 20, "Pipeline"),
    Stage("Value Proposition", 50, "Pipeline"),
    Stage("Id. Decision Makers", 60, "Pipeline"),
    Stage("Perception Analysis", 70, "Pipeline"),
    Stage("Proposal/Price Quote", 75, "Pipeline"),
    Stage("Negotiation/Review", 90, "Pipeline"),
    Stage("Closed Won", 100, "Closed", is_closed=True, is_won=True),
    Stage("Closed Lost", 0, "Omitted", is_closed=True),
)

CONTACT_ROLES = (
    "Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker",
    "Evaluator", "Executive Sponsor", "Influencer", "Technical Buyer", "Legal", "Procurement",
    "Other",
)
FORECAST_CATEGORIES = ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")


def text(name: str, length: int = 255, label: str = "", **kw: Any) -> FieldDef:
    return FieldDef(name=name, type="string", length=length, label=label or name, **kw)


def ref(name: str, target: str, relationship: str, label: str = "", **kw: Any) -> FieldDef:
    return FieldDef(name=name, type="reference", length=18, label=label or name,
                    reference_to=(target,), relationship_name=relationship, **kw)


def typed(name: str, type_: str, label: str = "", **kw: Any) -> FieldDef:
    return FieldDef(name=name, type=type_, label=label or name, **kw)


def picklist(name: str, values: tuple[str, ...], label: str = "", **kw: Any) -> FieldDef:
    return FieldDef(name=name, type="picklist", length=255, label=label or name,
                    picklist_values=values, **kw)


def readonly(f: FieldDef) -> FieldDef:
    """The same field, computed by the server (not createable nor updateable)."""
    from dataclasses import replace
    return replace(f, createable=False, updateable=False)


def system_fields() -> list[FieldDef]:
    """Fields every object has, maintained by the server."""
    sys: dict[str, Any] = {"createable": False, "updateable": False, "system": True,
                              "nillable": False}
    return [
        typed("Id", "id", "Record ID", length=18, id_lookup=True, **sys),
        typed("IsDeleted", "boolean", "Deleted", **sys),
        typed("CreatedDate", "datetime", "Created Date", **sys),
        ref("CreatedById", "User", "CreatedBy", "Created By ID", **sys),
        typed("LastModifiedDate", "datetime", "Last Modified Date", **sys),
        ref("LastModifiedById", "User", "LastModifiedBy", "Last Modified By ID", **sys),
        typed("SystemModstamp", "datetime", "System Modstamp", **sys),
    ]


def sobject(name: str, prefix: str, label: str, plural: str, fields: list[FieldDef]) -> SObjectDef:
    obj = SObjectDef(name=name, key_prefix=prefix, label=label, label_plural=plural)
    for f in [*system_fields(), *fields]:
        obj.add(f)
    return obj


def organization() -> SObjectDef:
    return sobject("Organization", "00D", "Organization", "Organizations", [readonly(f) for f in [
        text("Name", 80, "Name", nillable=False),
        text("Division", 80),
        picklist("OrganizationType", ("Developer Edition", "Enterprise Edition",
                                      "Unlimited Edition", "Professional Edition"), "Edition"),
        text("InstanceName", 5, "Instance Name"),
        typed("IsSandbox", "boolean", "Is Sandbox"),
        # read by the sf CLI when it logs in (null: not a trial org, no namespace)
        typed("TrialExpirationDate", "datetime", "Trial Expiration Date"),
        text("NamespacePrefix", 15, "Namespace Prefix"),
        text("Country", 80),
        picklist("TimeZoneSidKey", ("America/Los_Angeles", "Europe/London", "UTC"), "Time Zone"),
        picklist("LanguageLocaleKey", ("en_US",), "Language"),
        picklist("DefaultLocaleSidKey", ("en_US",), "Locale"),
    ]])


def user() -> SObjectDef:
    return sobject("User", "005", "User", "Users", [
        text("Username", 80, "Username", nillable=False, unique=True, id_lookup=True),
        text("LastName", 80, "Last Name", nillable=False),
        text("FirstName", 40, "First Name"),
        readonly(text("Name", 121, "Full Name")),
        typed("Email", "email", "Email", length=128, nillable=False),
        text("Alias", 8, "Alias", nillable=False),
        typed("IsActive", "boolean", "Active", default_value=True),
        text("Title", 80),
        text("Department", 80),
        ref("ProfileId", "Profile", "Profile", "Profile ID", relationship_plural="Users"),
        ref("ManagerId", "User", "Manager", "Manager ID"),
        picklist("TimeZoneSidKey", ("America/Los_Angeles", "America/New_York", "Europe/London",
                                    "Europe/Berlin", "UTC"), "Time Zone",
                 default_value="America/Los_Angeles"),
        picklist("LocaleSidKey", ("en_US", "en_GB", "de_DE"), "Locale", default_value="en_US"),
        picklist("EmailEncodingKey", ("UTF-8", "ISO-8859-1"), "Email Encoding",
                 default_value="UTF-8"),
        picklist("LanguageLocaleKey", ("en_US",), "Language", default_value="en_US"),
    ])


def profile() -> SObjectDef:
    return sobject("Profile", "00e", "Profile", "Profiles", [readonly(f) for f in [
        text("Name", 255, "Name", nillable=False),
        picklist("UserType", ("Standard", "PowerPartner", "CsnOnly"), "User Type"),
        typed("Description", "textarea", "Description", length=255),
    ]])


def account() -> SObjectDef:
    return sobject("Account", "001", "Account", "Accounts", [
        text("Name", 255, "Account Name", nillable=False, id_lookup=True),
        picklist("Type", ("Prospect", "Customer - Direct", "Customer - Channel",
                          "Channel Partner / Reseller", "Installation Partner",
                          "Technology Partner", "Other"), "Account Type"),
        picklist("Industry", ("Agriculture", "Banking", "Biotechnology", "Communications",
                              "Consulting", "Education", "Energy", "Engineering", "Finance",
                              "Healthcare", "Insurance", "Manufacturing", "Media", "Retail",
                              "Technology", "Transportation", "Other"), "Industry"),
        typed("AnnualRevenue", "currency", "Annual Revenue", precision=18, scale=0),
        typed("NumberOfEmployees", "int", "Employees", precision=8),
        typed("Website", "url", "Website", length=255),
        typed("Phone", "phone", "Account Phone", length=40),
        text("AccountNumber", 40, "Account Number"),
        text("BillingCity", 40, "Billing City"),
        text("BillingState", 80, "Billing State/Province"),
        text("BillingCountry", 80, "Billing Country"),
        typed("Description", "textarea", "Account Description", length=32000),
        ref("ParentId", "Account", "Parent", "Parent Account ID"),
        ref("OwnerId", "User", "Owner", "Owner ID", nillable=False, default_value="$user"),
    ])


def contact() -> SObjectDef:
    return sobject("Contact", "003", "Contact", "Contacts", [
        text("FirstName", 40, "First Name"),
        text("LastName", 80, "Last Name", nillable=False),
        readonly(text("Name", 121, "Full Name")),
        # deleting an Account deletes its Contacts and Opportunities (Salesforce's cascade
        # on these two lookups), though neither is a master-detail field
        ref("AccountId", "Account", "Account", "Account ID", relationship_plural="Contacts",
            cascade_delete=True),
        text("Title", 128),
        text("Department", 80),
        typed("Email", "email", "Email", length=80, id_lookup=True),
        typed("Phone", "phone", "Business Phone", length=40),
        text("MailingCity", 40, "Mailing City"),
        text("MailingCountry", 80, "Mailing Country"),
        typed("Description", "textarea", "Contact Description", length=32000),
        ref("OwnerId", "User", "Owner", "Owner ID", nillable=False, default_value="$user"),
    ])


def opportunity() -> SObjectDef:
    stages = tuple(s.name for s in STANDARD_STAGES)
    return sobject("Opportunity", "006", "Opportunity", "Opportunities", [
        text("Name", 120, "Name", nillable=False),
        ref("AccountId", "Account", "Account", "Account ID",
            relationship_plural="Opportunities", cascade_delete=True),
        ref("OwnerId", "User", "Owner", "Owner ID", nillable=False, default_value="$user"),
        picklist("StageName", stages, "Stage", nillable=False, restricted_picklist=True),
        typed("CloseDate", "date", "Close Date", nillable=False),
        typed("Amount", "currency", "Amount", precision=18, scale=2),
        typed("Probability", "percent", "Probability (%)", precision=3, scale=0),
        readonly(typed("ExpectedRevenue", "currency", "Expected Amount", precision=18, scale=2)),
        picklist("Type", ("Existing Business", "New Business"), "Opportunity Type"),
        picklist("LeadSource", ("Advertisement", "Employee Referral", "External Referral",
                                "Partner", "Public Relations", "Seminar - Internal",
                                "Seminar - Partner", "Trade Show", "Web", "Word of mouth",
                                "Other"), "Lead Source"),
        text("NextStep", 255, "Next Step"),
        typed("Description", "textarea", "Description", length=32000),
        readonly(typed("IsClosed", "boolean", "Closed")),
        readonly(typed("IsWon", "boolean", "Won")),
        picklist("ForecastCategoryName", FORECAST_CATEGORIES, "Forecast Category"),
        readonly(typed("FiscalYear", "int", "Fiscal Year", precision=4)),
        readonly(typed("FiscalQuarter", "int", "Fiscal Quarter", precision=1)),
        readonly(typed("LastActivityDate", "date", "Last Activity")),
    ])


def opportunity_stage() -> SObjectDef:
    return sobject("OpportunityStage", "01J", "Opportunity Stage", "Opportunity Stages",
                   [readonly(f) for f in [
                       text("MasterLabel", 255, "Master Label", nillable=False),
                       text("ApiName", 255, "Api Name", nillable=False),
                       typed("IsActive", "boolean", "Is Active"),
                       typed("IsClosed", "boolean", "Closed"),
                       typed("IsWon", "boolean", "Won"),
                       typed("SortOrder", "int", "Sort Order", precision=9),
                       typed("DefaultProbability", "percent", "Probability (%)", precision=3),
                       picklist("ForecastCategoryName", FORECAST_CATEGORIES,
                                "Forecast Category"),
                       typed("Description", "textarea", "Description", length=255),
                   ]])


def opportunity_contact_role() -> SObjectDef:
    return sobject("OpportunityContactRole", "00K", "Opportunity Contact Role",
                   "Opportunity Contact Role", [
                       ref("OpportunityId", "Opportunity", "Opportunity", "Opportunity ID",
                           nillable=False, updateable=False, cascade_delete=True,
                           relationship_plural="OpportunityContactRoles"),
                       ref("ContactId", "Contact", "Contact", "Contact ID", nillable=False,
                           cascade_delete=True,
                           relationship_plural="OpportunityContactRoles"),
                       picklist("Role", CONTACT_ROLES, "Role"),
                       typed("IsPrimary", "boolean", "Primary"),
                   ])


def standard_schema() -> Schema:
    """A Schema holding the standard objects, with child relationships linked."""
    schema = Schema()
    # Files and Task are declared in modules of their own (imported here, not at the top:
    # they build on the helpers above)
    from connectors.emulator.objects_files import file_objects
    from connectors.emulator.objects_task import task
    from connectors.emulator.objects_team import opportunity_team_member

    for obj in (organization(), profile(), user(), account(), contact(), opportunity(),
                opportunity_stage(), opportunity_contact_role(), opportunity_team_member(),
                *file_objects(), task()):
        schema.add(obj)
    schema.link_children()
    return schema
