"""What reps and managers open in Salesforce holds together: every name one file gives another
resolves, and the permission sets match the field ownership of docs/architecture.md.

The schema check (``test_metadata_schema.py``) sees one file at a time; a deploy also fails on
a list view filtering a field that does not exist, a report on a column its report type lacks,
a dashboard on a missing report, an app with a tab nobody ships. These tests resolve each name
against the project, as the Metadata API would on deploy.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sync.planner.model import (
    OPPORTUNITY_ROLLUP_FIELDS,
    REP_OWNED_MILESTONE_FIELDS,
    REP_OWNED_PLAN_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
)
from tests.emulator.test_metadata_schema import NS, SOURCE, parse, text_of

PLAN, MILESTONE = "Mutual_Action_Plan__c", "MAP_Milestone__c"
STANDARD = {"Name", "Owner", "OwnerId", "NAME", "OWNER.ALIAS", "Account", "StageName",
            "CloseDate", "Amount"}


def fields_of(obj: str) -> set[str]:
    folder = SOURCE / "objects" / obj / "fields"
    return {p.name.removesuffix(".field-meta.xml") for p in folder.glob("*.field-meta.xml")}


def texts(root: ET.Element, path: str) -> list[str]:
    return [el.text or "" for el in root.iterfind(path)]


def permset(name: str) -> dict[str, tuple[str, str]]:
    root = parse(SOURCE / "permissionsets" / f"{name}.permissionset-meta.xml")
    return {text_of(p, "field"): (text_of(p, "readable"), text_of(p, "editable"))
            for p in root.iterfind(NS + "fieldPermissions")}


def test_the_app_shows_the_plan_tabs_and_opens_plans_on_their_record_page() -> None:
    app = parse(SOURCE / "applications" / "Mutual_Action_Plans.app-meta.xml")
    tabs = texts(app, NS + "tabs")
    assert [t for t in tabs if t.endswith("__c")] == [PLAN, MILESTONE]
    for tab in (PLAN, MILESTONE):
        assert (SOURCE / "tabs" / f"{tab}.tab-meta.xml").is_file()
    override = app.find(NS + "actionOverrides")
    assert override is not None
    page = text_of(override, "content")
    assert (SOURCE / "flexipages" / f"{page}.flexipage-meta.xml").is_file()
    assert text_of(parse(SOURCE / "flexipages" / f"{page}.flexipage-meta.xml"),
                   "sobjectType") == PLAN


def test_the_record_page_lists_the_milestones_by_their_relationship() -> None:
    page = parse(SOURCE / "flexipages" / "Mutual_Action_Plan_Record_Page.flexipage-meta.xml")
    props = {text_of(p, "name"): text_of(p, "value")
             for p in page.iter(NS + "componentInstanceProperties")}
    relationship = text_of(parse(SOURCE / "objects" / MILESTONE / "fields" /
                                 "Plan__c.field-meta.xml"), "relationshipName")
    assert props["relatedListApiName"] == f"{relationship}__r"
    layout = parse(SOURCE / "layouts" /
                   "Mutual_Action_Plan__c-Mutual Action Plan Layout.layout-meta.xml")
    [milestones] = [r for r in layout.iterfind(NS + "relatedLists")
                    if text_of(r, "relatedList") == f"{MILESTONE}.Plan__c"]
    assert texts(milestones, NS + "fields") == [
        "NAME", "Owner_Side__c", "Owner_Contact__c", "Due_Date__c", "Status__c",
        "Days_Slipped__c"]


@pytest.mark.parametrize("path", sorted(SOURCE.glob("objects/*/listViews/*.listView-meta.xml")),
                         ids=lambda p: p.name)
def test_list_views_show_and_filter_fields_that_exist(path: Path) -> None:
    view = parse(path)
    known = fields_of(path.parent.parent.name) | STANDARD
    names = texts(view, NS + "columns") + texts(view, f"{NS}filters/{NS}field")
    assert [n for n in names if n not in known] == []


def test_the_five_list_views_reps_asked_for_are_there() -> None:
    labels = {text_of(parse(p), "label")
              for p in SOURCE.glob("objects/*/listViews/*.listView-meta.xml")}
    assert labels == {"My open plans", "Off Track / At Risk", "Milestones due this week",
                      "Overdue milestones", "Buyer-side milestones waiting"}


def report_type_columns() -> dict[str, set[str]]:
    """Report type name → the columns reports may use (``table$field``, base table as is)."""
    out = {}
    for path in SOURCE.glob("reportTypes/*.reportType-meta.xml"):
        root = parse(path)
        out[path.name.removesuffix(".reportType-meta.xml") + "__c"] = {
            f"{text_of(c, 'table')}${text_of(c, 'field')}"
            for c in root.iter(NS + "columns")}
    return out


def test_report_types_name_fields_that_exist() -> None:
    for path in SOURCE.glob("reportTypes/*.reportType-meta.xml"):
        for column in parse(path).iter(NS + "columns"):
            table, name = text_of(column, "table"), text_of(column, "field")
            obj = {PLAN: PLAN, f"{PLAN}.Milestones__r": MILESTONE, "Opportunity": "Opportunity",
                   "Opportunity.Mutual_Action_Plans__r": PLAN}[table]
            assert name in fields_of(obj) | STANDARD, (path.name, table, name)


@pytest.mark.parametrize("path", sorted(SOURCE.glob("reports/*/*.report-meta.xml")),
                         ids=lambda p: p.name)
def test_reports_use_columns_their_report_type_offers(path: Path) -> None:
    report = parse(path)
    offered = report_type_columns()[text_of(report, "reportType")]
    used = (texts(report, f"{NS}columns/{NS}field")
            + texts(report, f"{NS}groupingsDown/{NS}field")
            + texts(report, f"{NS}filter/{NS}criteriaItems/{NS}column"))
    assert [c for c in used if c not in offered] == []


def test_the_dashboard_shows_the_four_reports() -> None:
    dashboard = parse(SOURCE / "dashboards" / "Mutual_Action_Plans" /
                      "Mutual_Action_Plans_Overview.dashboard-meta.xml")
    reports = texts(dashboard, f".//{NS}report")
    assert sorted(reports) == sorted(
        f"Mutual_Action_Plans/{p.name.removesuffix('.report-meta.xml')}"
        for p in SOURCE.glob("reports/Mutual_Action_Plans/*.report-meta.xml"))
    assert len(reports) == 4


def test_rep_permission_set_matches_field_ownership() -> None:
    granted = permset("Mapsync_User")
    rep_edits = {f"{PLAN}.{f}" for f in REP_OWNED_PLAN_FIELDS} | {  # (Name has no FLS)
        f"{MILESTONE}.{f}" for f in (REP_OWNED_MILESTONE_FIELDS | REP_PINNABLE_MILESTONE_FIELDS)
        - {"Name"}}
    service = ({f"{PLAN}.{f}" for f in SERVICE_OWNED_PLAN_FIELDS}
               | {f"{MILESTONE}.{f}" for f in SERVICE_OWNED_MILESTONE_FIELDS - {"Name"}}
               | {f"Opportunity.{f}" for f in OPPORTUNITY_ROLLUP_FIELDS})
    assert {f for f, (_, edit) in granted.items() if edit == "true"} == rep_edits
    assert all(granted[f] == ("true", "false") for f in service)
    assert {f for f, (read, _) in granted.items() if read == "true"} == set(granted)


def test_manager_permission_set_reads_everything_edits_nothing_and_runs_reports() -> None:
    granted = permset("Mapsync_Manager")
    assert set(granted) == set(permset("Mapsync_User"))
    assert set(granted.values()) == {("true", "false")}
    root = parse(SOURCE / "permissionsets" / "Mapsync_Manager.permissionset-meta.xml")
    objects = {text_of(p, "object"): p for p in root.iterfind(NS + "objectPermissions")}
    for obj in (PLAN, MILESTONE):
        assert (text_of(objects[obj], "viewAllRecords"), text_of(objects[obj], "allowEdit")) \
            == ("true", "false")
    assert texts(root, f"{NS}userPermissions/{NS}name") == ["RunReports"]


def test_objects_take_activities_and_use_their_compact_layouts() -> None:
    for obj, compact in ((PLAN, "Plan_Compact"), (MILESTONE, "Milestone_Compact")):
        root = parse(SOURCE / "objects" / obj / f"{obj}.object-meta.xml")
        assert text_of(root, "enableActivities") == "true"
        assert text_of(root, "compactLayoutAssignment") == compact
        layout = parse(SOURCE / "objects" / obj / "compactLayouts" /
                       f"{compact}.compactLayout-meta.xml")
        assert set(texts(layout, NS + "fields")) <= fields_of(obj) | STANDARD


def test_help_texts_speak_to_reps_not_about_mapsync() -> None:
    for path in sorted(SOURCE.glob("objects/*/fields/*.field-meta.xml")):
        help_text = text_of(parse(path), "inlineHelpText")
        assert "mapsync" not in help_text.lower(), path.name
        assert "Service-owned" not in help_text, path.name


def test_the_opportunity_layout_shows_the_plan_and_its_numbers() -> None:
    layout = parse(SOURCE / "layouts" / "Opportunity-Opportunity MAP Layout.layout-meta.xml")
    shown = set(texts(layout, f".//{NS}layoutItems/{NS}field"))
    assert {f"MAP_{f.removeprefix('MAP_')}" for f in OPPORTUNITY_ROLLUP_FIELDS} <= shown
    assert f"{PLAN}.Opportunity__c" in texts(layout, f"{NS}relatedLists/{NS}relatedList")
