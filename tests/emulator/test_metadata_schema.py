"""Every shipped metadata file is valid against the Metadata API schema, and names what is pinned.

A deploy fails on the first element out of order or value out of range, far from where it was
written; validating against the ``metadata.wsdl`` simple-salesforce ships catches that here.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import simple_salesforce
from xmlschema.extras.wsdl import Wsdl11Document

from connectors.emulator.metadata_loader import default_metadata_dir

MD = "http://soap.sforce.com/2006/04/metadata"
NS = "{" + MD + "}"
PROJECT = default_metadata_dir()
SOURCE = PROJECT / "force-app" / "main" / "default"
META_FILES = sorted(PROJECT.rglob("*-meta.xml"))

# file suffix → Metadata API type of its root element
SUFFIX_TYPES = {
    ".object-meta.xml": "CustomObject",
    ".field-meta.xml": "CustomField",
    ".layout-meta.xml": "Layout",
    ".permissionset-meta.xml": "PermissionSet",
    ".compactLayout-meta.xml": "CompactLayout",
    ".listView-meta.xml": "ListView",
    ".tab-meta.xml": "CustomTab",
    ".app-meta.xml": "CustomApplication",
    ".flexipage-meta.xml": "FlexiPage",
    ".reportType-meta.xml": "ReportType",
    ".reportFolder-meta.xml": "ReportFolder",
    ".report-meta.xml": "Report",
    ".dashboardFolder-meta.xml": "DashboardFolder",
    ".dashboard-meta.xml": "Dashboard",
}

PINNED_FIELDS = [
    "Mutual_Action_Plan__c.Opportunity__c",
    "Mutual_Action_Plan__c.External_Id__c",
    "Mutual_Action_Plan__c.Template__c",
    "Mutual_Action_Plan__c.Status__c",
    "Mutual_Action_Plan__c.Health__c",
    "Mutual_Action_Plan__c.Percent_Complete__c",
    "Mutual_Action_Plan__c.Target_Close_Date__c",
    "Mutual_Action_Plan__c.Projected_Close_Date__c",
    "Mutual_Action_Plan__c.Go_Live_Date__c",
    "Mutual_Action_Plan__c.Days_Slipped__c",
    "Mutual_Action_Plan__c.Slip_Cause__c",
    "Mutual_Action_Plan__c.Next_Milestone__c",
    "Mutual_Action_Plan__c.Next_Due_Date__c",
    "Mutual_Action_Plan__c.Summary__c",
    "Mutual_Action_Plan__c.Success_Criteria__c",
    "Mutual_Action_Plan__c.Last_Synced_At__c",
    "Mutual_Action_Plan__c.Buyer_On_Time_Rate__c",
    "Mutual_Action_Plan__c.Seller_On_Time_Rate__c",
    "Mutual_Action_Plan__c.Last_Progress_Date__c",
    "Mutual_Action_Plan__c.Days_Since_Progress__c",
    "Mutual_Action_Plan__c.Compelling_Event_Date__c",
    "Mutual_Action_Plan__c.Compelling_Event__c",
    "Mutual_Action_Plan__c.Shared_Version_Id__c",
    "Mutual_Action_Plan__c.Shared_Digest__c",
    "Mutual_Action_Plan__c.Last_Shared_At__c",
    "Mutual_Action_Plan__c.Resources__c",
    "Mutual_Action_Plan__c.Check_In_Cadence__c",
    "Mutual_Action_Plan__c.Mapping_Version__c",
    "MAP_Milestone__c.Plan__c",
    "MAP_Milestone__c.External_Id__c",
    "MAP_Milestone__c.Key__c",
    "MAP_Milestone__c.Sequence__c",
    "MAP_Milestone__c.Stage__c",
    "MAP_Milestone__c.Owner_Side__c",
    "MAP_Milestone__c.Owner_Role__c",
    "MAP_Milestone__c.Owner_Contact__c",
    "MAP_Milestone__c.Owner_User__c",
    "MAP_Milestone__c.Baseline_Due_Date__c",
    "MAP_Milestone__c.Due_Date__c",
    "MAP_Milestone__c.Completed_Date__c",
    "MAP_Milestone__c.Status__c",
    "MAP_Milestone__c.Days_Slipped__c",
    "MAP_Milestone__c.Depends_On__c",
    "MAP_Milestone__c.Why_It_Matters__c",
    "MAP_Milestone__c.Notes__c",
    "MAP_Milestone__c.Task_Id__c",
    "Activity.MAP_External_Id__c",
    "Opportunity.MAP_Health__c",
    "Opportunity.MAP_Percent_Complete__c",
    "Opportunity.MAP_Days_Slipped__c",
    "Opportunity.MAP_Projected_Close_Date__c",
    "Opportunity.MAP_Buyer_On_Time_Rate__c",
    "Opportunity.MAP_Seller_On_Time_Rate__c",
    "Opportunity.MAP_Days_Since_Progress__c",
]

# pinned field → its metadata type, as docs/architecture.md describes it
PINNED_TYPES = {
    "Mutual_Action_Plan__c.Opportunity__c": "Lookup",
    "Mutual_Action_Plan__c.External_Id__c": "Text",
    "Mutual_Action_Plan__c.Template__c": "Text",
    "Mutual_Action_Plan__c.Mapping_Version__c": "Text",
    "Mutual_Action_Plan__c.Status__c": "Picklist",
    "Mutual_Action_Plan__c.Health__c": "Picklist",
    "Mutual_Action_Plan__c.Percent_Complete__c": "Percent",
    "Mutual_Action_Plan__c.Target_Close_Date__c": "Date",
    "Mutual_Action_Plan__c.Projected_Close_Date__c": "Date",
    "Mutual_Action_Plan__c.Go_Live_Date__c": "Date",
    "Mutual_Action_Plan__c.Days_Slipped__c": "Number",
    "Mutual_Action_Plan__c.Slip_Cause__c": "Text",
    "Mutual_Action_Plan__c.Next_Milestone__c": "Text",
    "Mutual_Action_Plan__c.Next_Due_Date__c": "Date",
    "Mutual_Action_Plan__c.Summary__c": "LongTextArea",
    "Mutual_Action_Plan__c.Success_Criteria__c": "LongTextArea",
    "Mutual_Action_Plan__c.Last_Synced_At__c": "DateTime",
    "Mutual_Action_Plan__c.Buyer_On_Time_Rate__c": "Percent",
    "Mutual_Action_Plan__c.Seller_On_Time_Rate__c": "Percent",
    "Mutual_Action_Plan__c.Last_Progress_Date__c": "Date",
    "Mutual_Action_Plan__c.Days_Since_Progress__c": "Number",
    "Mutual_Action_Plan__c.Compelling_Event_Date__c": "Date",
    "Mutual_Action_Plan__c.Compelling_Event__c": "Text",
    "Mutual_Action_Plan__c.Shared_Version_Id__c": "Text",
    "Mutual_Action_Plan__c.Shared_Digest__c": "Text",
    "Mutual_Action_Plan__c.Last_Shared_At__c": "DateTime",
    "Mutual_Action_Plan__c.Resources__c": "LongTextArea",
    "Mutual_Action_Plan__c.Check_In_Cadence__c": "Picklist",
    "MAP_Milestone__c.Plan__c": "MasterDetail",
    "MAP_Milestone__c.External_Id__c": "Text",
    "MAP_Milestone__c.Key__c": "Text",
    "MAP_Milestone__c.Sequence__c": "Number",
    "MAP_Milestone__c.Stage__c": "Text",
    "MAP_Milestone__c.Owner_Side__c": "Picklist",
    "MAP_Milestone__c.Owner_Role__c": "Text",
    "MAP_Milestone__c.Owner_Contact__c": "Lookup",
    "MAP_Milestone__c.Owner_User__c": "Lookup",
    "MAP_Milestone__c.Baseline_Due_Date__c": "Date",
    "MAP_Milestone__c.Due_Date__c": "Date",
    "MAP_Milestone__c.Completed_Date__c": "Date",
    "MAP_Milestone__c.Status__c": "Picklist",
    "MAP_Milestone__c.Days_Slipped__c": "Number",
    "MAP_Milestone__c.Depends_On__c": "Text",
    "MAP_Milestone__c.Why_It_Matters__c": "Text",
    "MAP_Milestone__c.Notes__c": "LongTextArea",
    "MAP_Milestone__c.Task_Id__c": "Text",
    "Activity.MAP_External_Id__c": "Text",
    "Opportunity.MAP_Health__c": "Picklist",
    "Opportunity.MAP_Percent_Complete__c": "Percent",
    "Opportunity.MAP_Days_Slipped__c": "Number",
    "Opportunity.MAP_Projected_Close_Date__c": "Date",
    "Opportunity.MAP_Buyer_On_Time_Rate__c": "Percent",
    "Opportunity.MAP_Seller_On_Time_Rate__c": "Percent",
    "Opportunity.MAP_Days_Since_Progress__c": "Number",
}


@pytest.fixture(scope="session")
def metadata_wsdl() -> Wsdl11Document:
    """The Metadata API WSDL simple-salesforce ships (loading takes seconds: once a session)."""
    wsdl = Path(simple_salesforce.__file__).parent / "metadata.wsdl"
    return Wsdl11Document(str(wsdl))


def schema_errors(wsdl: Wsdl11Document, root: ET.Element) -> list[str]:
    assert root.tag.startswith(NS), f"root {root.tag} is not in the metadata namespace"
    complex_type: Any = wsdl.schema.maps.types[root.tag]
    return [str(error) for error in complex_type.iter_errors(root)]


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - the product's own files


def text_of(root: ET.Element, tag: str) -> str:
    found = root.find(NS + tag)
    return (found.text or "") if found is not None else ""


def field_file(qualified: str) -> Path:
    obj, name = qualified.split(".")
    return SOURCE / "objects" / obj / "fields" / f"{name}.field-meta.xml"


def custom_fields() -> Iterator[tuple[str, ET.Element]]:
    """Custom fields only: a standard field's file (``Opportunity/fields/StageName``) holds
    settings such as history tracking, not a new field."""
    for path in sorted(SOURCE.glob("objects/*/fields/*__c.field-meta.xml")):
        yield f"{path.parent.parent.name}.{path.name.removesuffix('.field-meta.xml')}", parse(path)


@pytest.mark.parametrize("path", META_FILES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_metadata_file_is_valid_against_the_metadata_api_schema(
        metadata_wsdl: Wsdl11Document, path: Path) -> None:
    root = parse(path)
    expected_type = next(t for s, t in SUFFIX_TYPES.items() if path.name.endswith(s))
    assert root.tag == NS + expected_type
    assert schema_errors(metadata_wsdl, root) == []


def test_every_file_in_the_project_is_a_validated_kind() -> None:
    files = sorted(p.relative_to(PROJECT).as_posix() for p in PROJECT.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    others = [f for f in files if not any(f.endswith(s) for s in SUFFIX_TYPES)]
    assert others == ["README.md", "sfdx-project.json"]
    assert len(META_FILES) == len(files) - 2


def test_sfdx_project_points_at_force_app_with_api_59() -> None:
    project: dict[str, Any] = json.loads((PROJECT / "sfdx-project.json").read_text())
    assert project["packageDirectories"] == [{"path": "force-app", "default": True}]
    assert project["sourceApiVersion"] == "59.0"


BROKEN_FIELDS = {
    "precision after type": (
        "<fullName>Score__c</fullName><label>Score</label><type>Number</type>"
        "<precision>5</precision><scale>0</scale>"),
    "unknown element": (
        "<fullName>Score__c</fullName><label>Score</label><maxLength>5</maxLength>"
        "<type>Text</type>"),
    "unknown field type": (
        "<fullName>Score__c</fullName><label>Score</label><length>10</length>"
        "<type>String</type>"),
    "length not a number": (
        "<fullName>Score__c</fullName><label>Score</label><length>ten</length>"
        "<type>Text</type>"),
    "picklist value without default": (
        "<fullName>Score__c</fullName><label>Score</label><type>Picklist</type>"
        "<valueSet><restricted>true</restricted><valueSetDefinition><sorted>false</sorted>"
        "<value><fullName>A</fullName><label>A</label></value>"
        "</valueSetDefinition></valueSet>"),
}


@pytest.mark.parametrize("body", BROKEN_FIELDS.values(), ids=BROKEN_FIELDS.keys())
def test_a_broken_field_is_rejected_by_the_schema(
        metadata_wsdl: Wsdl11Document, body: str) -> None:
    root = ET.fromstring(f'<CustomField xmlns="{MD}">{body}</CustomField>')  # noqa: S314
    assert schema_errors(metadata_wsdl, root) != []


def test_the_same_field_in_schema_order_is_accepted(metadata_wsdl: Wsdl11Document) -> None:
    root = ET.fromstring(  # noqa: S314
        f'<CustomField xmlns="{MD}"><fullName>Score__c</fullName><label>Score</label>'
        "<precision>5</precision><scale>0</scale><type>Number</type></CustomField>")
    assert schema_errors(metadata_wsdl, root) == []


def test_every_pinned_field_exists_with_its_design_type() -> None:
    assert set(PINNED_TYPES) == set(PINNED_FIELDS)
    for qualified in PINNED_FIELDS:
        path = field_file(qualified)
        assert path.is_file(), f"{qualified} has no metadata file"
        root = parse(path)
        assert text_of(root, "fullName") == qualified.split(".")[1]
        assert text_of(root, "type") == PINNED_TYPES[qualified], qualified


def test_no_custom_field_exists_beyond_the_pinned_ones() -> None:
    assert sorted(name for name, _ in custom_fields()) == sorted(PINNED_FIELDS)


def test_pinned_objects_have_their_settings() -> None:
    plan = parse(SOURCE / "objects/Mutual_Action_Plan__c/Mutual_Action_Plan__c.object-meta.xml")
    milestone = parse(SOURCE / "objects/MAP_Milestone__c/MAP_Milestone__c.object-meta.xml")
    for root in (plan, milestone):
        assert text_of(root, "deploymentStatus") == "Deployed"
        name_field = root.find(NS + "nameField")
        assert name_field is not None
        assert text_of(name_field, "type") == "Text"
    assert text_of(plan, "sharingModel") == "ReadWrite"
    assert text_of(milestone, "sharingModel") == "ControlledByParent"


def test_external_ids_are_unique_case_insensitive_text_of_pinned_length() -> None:
    for qualified, length in [("Mutual_Action_Plan__c.External_Id__c", "80"),
                              ("MAP_Milestone__c.External_Id__c", "120")]:
        root = parse(field_file(qualified))
        assert text_of(root, "externalId") == "true"
        assert text_of(root, "unique") == "true"
        assert text_of(root, "caseSensitive") == "false"
        assert text_of(root, "length") == length


def test_picklists_are_restricted_to_the_pinned_values() -> None:
    health = ["On Track", "At Risk", "Off Track"]
    expected = {
        "Mutual_Action_Plan__c.Status__c": ["Active", "Completed", "Cancelled"],
        "Mutual_Action_Plan__c.Health__c": health,
        "Mutual_Action_Plan__c.Check_In_Cadence__c": ["Weekly", "Every two weeks", "Monthly",
                                                      "No check-ins"],
        "MAP_Milestone__c.Owner_Side__c": ["Buyer", "Seller", "Joint"],
        "MAP_Milestone__c.Status__c": ["Not Started", "In Progress", "Done", "Blocked",
                                       "Skipped"],
        "Opportunity.MAP_Health__c": health,
    }
    picklists = {name for name, root in custom_fields() if text_of(root, "type") == "Picklist"}
    assert picklists == set(expected)
    for qualified, values in expected.items():
        value_set = parse(field_file(qualified)).find(NS + "valueSet")
        assert value_set is not None
        assert text_of(value_set, "restricted") == "true", qualified
        found = [text_of(v, "fullName")
                 for v in value_set.iterfind(f"{NS}valueSetDefinition/{NS}value")]
        assert found == values, qualified


def test_relationships_are_as_pinned() -> None:
    plan = parse(field_file("MAP_Milestone__c.Plan__c"))
    assert text_of(plan, "referenceTo") == "Mutual_Action_Plan__c"
    assert text_of(plan, "relationshipName") == "Milestones"
    opportunity = parse(field_file("Mutual_Action_Plan__c.Opportunity__c"))
    assert text_of(opportunity, "referenceTo") == "Opportunity"
    # not required on the field, so deleting the Opportunity is allowed and clears the
    # lookup; mapsync then removes the plan (docs/architecture.md, "Lifecycle")
    assert text_of(opportunity, "required") == "false"
    assert text_of(opportunity, "deleteConstraint") == "SetNull"
    contact = parse(field_file("MAP_Milestone__c.Owner_Contact__c"))
    assert text_of(contact, "referenceTo") == "Contact"
    assert text_of(contact, "deleteConstraint") == "SetNull"


def test_long_text_areas_have_visible_lines_and_numbers_a_precision() -> None:
    for name, root in custom_fields():
        kind = text_of(root, "type")
        if kind == "LongTextArea":
            assert int(text_of(root, "visibleLines")) > 0, name
        if kind in ("Number", "Percent"):
            assert int(text_of(root, "precision")) > 0, name
            assert text_of(root, "scale") != "", name


PERMSET = SOURCE / "permissionsets" / "Mapsync_Integration.permissionset-meta.xml"


def test_permission_set_grants_every_optional_field_and_never_a_required_one() -> None:
    root = parse(PERMSET)
    granted = {text_of(p, "field"): (text_of(p, "readable"), text_of(p, "editable"))
               for p in root.iterfind(NS + "fieldPermissions")}
    not_allowed = {name for name, field in custom_fields()
                   if text_of(field, "required") == "true"
                   or text_of(field, "type") == "MasterDetail"}
    assert not_allowed == {"MAP_Milestone__c.Plan__c"}
    custom = {name: access for name, access in granted.items() if name.endswith("__c")}
    assert set(custom) == set(PINNED_FIELDS) - not_allowed
    assert set(custom.values()) == {("true", "true")}
    # standard fields mapsync only reads: readable, never editable
    standard = {name: access for name, access in granted.items() if name not in custom}
    assert standard == {**{f"Opportunity.{n}": ("true", "false")
                           for n in ("AccountId", "Amount", "Type")},
                        **{f"OpportunityContactRole.{n}": ("true", "false")
                           for n in ("IsPrimary", "Role")},
                        # seller-side owners by team role
                        "OpportunityTeamMember.TeamMemberRole": ("true", "false"),
                        # the buyer's plan lists collaborators with their email
                        "Contact.Email": ("true", "false")}


def test_permission_set_gives_full_access_to_plans_and_milestones() -> None:
    root = parse(PERMSET)
    perms = {text_of(p, "object"): p for p in root.iterfind(NS + "objectPermissions")}
    for obj in ("Mutual_Action_Plan__c", "MAP_Milestone__c"):
        for flag in ("allowCreate", "allowRead", "allowEdit", "allowDelete", "viewAllRecords"):
            assert text_of(perms[obj], flag) == "true", (obj, flag)
    # the MAP_* roll-ups land on every rep's private Opportunity: Modify All (which
    # Salesforce grants only with Read, Edit, Delete and View All), never Create
    for flag in ("allowRead", "allowEdit", "allowDelete", "viewAllRecords", "modifyAllRecords"):
        assert text_of(perms["Opportunity"], flag) == "true", flag
    assert text_of(perms["Opportunity"], "allowCreate") == "false"


def test_plan_layout_lists_milestones_by_sequence() -> None:
    layout = parse(
        SOURCE / "layouts" / "Mutual_Action_Plan__c-Mutual Action Plan Layout.layout-meta.xml")
    lists = {text_of(r, "relatedList"): r for r in layout.iterfind(NS + "relatedLists")}
    milestones = lists["MAP_Milestone__c.Plan__c"]
    assert text_of(milestones, "sortField") == "Sequence__c"
    assert "NAME" in [f.text for f in milestones.iterfind(NS + "fields")]


def test_layouts_mark_required_fields_required() -> None:
    for path in sorted(SOURCE.glob("layouts/*.layout-meta.xml")):
        behaviors = {text_of(item, "field"): text_of(item, "behavior")
                     for item in parse(path).iter(NS + "layoutItems")}
        for name in ("Name", "Opportunity__c", "Plan__c"):
            if name in behaviors:
                assert behaviors[name] == "Required", (path.name, name)
