"""The emulator's custom objects come from the deployable sfdx metadata, typed as describe says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.emulator.metadata_loader import (
    MetadataError,
    apply_metadata,
    default_metadata_dir,
)
from connectors.emulator.schema import FieldDef, Schema, SObjectDef


def standard_schema() -> Schema:
    """The standard objects the metadata points at, as bare as the loader needs them."""
    schema = Schema()
    for name, prefix in [("Opportunity", "006"), ("Contact", "003"), ("User", "005"),
                         ("Account", "001"), ("Task", "00T")]:  # Task: Activity's fields
        schema.add(SObjectDef(name=name, key_prefix=prefix,
                              fields={"Id": FieldDef(name="Id", type="id", length=18)}))
    opportunity = schema.get("Opportunity")
    assert opportunity is not None
    for name, type_ in [("StageName", "picklist"), ("CloseDate", "date"),
                        ("Amount", "currency")]:  # the metadata tracks their history
        opportunity.add(FieldDef(name=name, type=type_))
    return schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    loaded = standard_schema()
    apply_metadata(loaded, default_metadata_dir())
    return loaded


def field(schema: Schema, obj: str, name: str) -> FieldDef:
    sobject = schema.get(obj)
    assert sobject is not None, f"{obj} missing"
    f = sobject.field(name)
    assert f is not None, f"{obj}.{name} missing"
    return f


def test_default_metadata_dir_is_the_shipped_sfdx_project() -> None:
    folder = default_metadata_dir()
    assert (folder / "sfdx-project.json").is_file()
    assert folder.parts[-3:] == ("connectors", "salesforce", "metadata")


def test_both_custom_objects_are_added_with_labels_and_stable_key_prefixes(
        schema: Schema) -> None:
    plan = schema.get("Mutual_Action_Plan__c")
    milestone = schema.get("MAP_Milestone__c")
    assert plan is not None
    assert milestone is not None
    assert (plan.key_prefix, milestone.key_prefix) == ("a01", "a02")  # master before detail
    assert plan.custom
    assert milestone.custom
    assert (plan.label, plan.label_plural) == ("Mutual Action Plan", "Mutual Action Plans")
    assert (milestone.label, milestone.label_plural) == ("MAP Milestone", "MAP Milestones")


def test_key_prefixes_skip_ones_already_taken() -> None:
    schema = standard_schema()
    schema.add(SObjectDef(name="Other__c", key_prefix="a01"))
    apply_metadata(schema, default_metadata_dir())
    assert schema.get("Mutual_Action_Plan__c").key_prefix == "a02"  # type: ignore[union-attr]
    assert schema.get("MAP_Milestone__c").key_prefix == "a03"  # type: ignore[union-attr]


def test_custom_objects_have_the_standard_fields_and_only_masters_have_an_owner(
        schema: Schema) -> None:
    standard = {"Id", "Name", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                "LastModifiedById", "SystemModstamp"}
    plan = schema.get("Mutual_Action_Plan__c")
    milestone = schema.get("MAP_Milestone__c")
    assert plan is not None
    assert milestone is not None
    assert standard | {"OwnerId"} <= set(plan.fields)
    assert standard <= set(milestone.fields)
    assert "OwnerId" not in milestone.fields  # a detail's owner is its master's
    for name in standard - {"Name"}:
        assert not field(schema, "MAP_Milestone__c", name).createable, name
    owner = field(schema, "Mutual_Action_Plan__c", "OwnerId")
    assert owner.type == "reference"
    assert owner.createable
    assert owner.updateable
    assert owner.relationship_name == "Owner"
    assert "User" in owner.reference_to
    assert field(schema, "Mutual_Action_Plan__c", "SystemModstamp").type == "datetime"


def test_name_fields_are_text_80_and_required(schema: Schema) -> None:
    for obj, label in [("Mutual_Action_Plan__c", "Plan Name"),
                       ("MAP_Milestone__c", "Milestone Name")]:
        name = field(schema, obj, "Name")
        assert (name.type, name.length, name.label) == ("string", 80, label)
        assert not name.nillable
        assert name.createable
        assert name.updateable


def test_plan_fields_have_the_describe_types_and_sizes_of_the_metadata(
        schema: Schema) -> None:
    expected = {
        "External_Id__c": ("string", 80, 0, 0),
        "Template__c": ("string", 80, 0, 0),
        "Status__c": ("picklist", 255, 0, 0),
        "Health__c": ("picklist", 255, 0, 0),
        "Percent_Complete__c": ("percent", 0, 5, 2),
        "Target_Close_Date__c": ("date", 0, 0, 0),
        "Projected_Close_Date__c": ("date", 0, 0, 0),
        "Go_Live_Date__c": ("date", 0, 0, 0),
        "Days_Slipped__c": ("double", 0, 6, 0),
        "Slip_Cause__c": ("string", 255, 0, 0),
        "Next_Milestone__c": ("string", 255, 0, 0),
        "Next_Due_Date__c": ("date", 0, 0, 0),
        "Summary__c": ("textarea", 32768, 0, 0),
        "Success_Criteria__c": ("textarea", 32768, 0, 0),
        "Last_Synced_At__c": ("datetime", 0, 0, 0),
        "Opportunity__c": ("reference", 18, 0, 0),
    }
    for name, shape in expected.items():
        f = field(schema, "Mutual_Action_Plan__c", name)
        assert (f.type, f.length, f.precision, f.scale) == shape, name
        assert f.custom, name


def test_milestone_fields_have_the_describe_types_and_sizes_of_the_metadata(
        schema: Schema) -> None:
    expected = {
        "Plan__c": ("reference", 18, 0, 0),
        "External_Id__c": ("string", 120, 0, 0),
        "Key__c": ("string", 80, 0, 0),
        "Sequence__c": ("double", 0, 5, 0),  # Salesforce reports Number(n, 0) as double
        "Stage__c": ("string", 255, 0, 0),
        "Owner_Side__c": ("picklist", 255, 0, 0),
        "Owner_Role__c": ("string", 80, 0, 0),
        "Owner_Contact__c": ("reference", 18, 0, 0),
        "Baseline_Due_Date__c": ("date", 0, 0, 0),
        "Due_Date__c": ("date", 0, 0, 0),
        "Completed_Date__c": ("date", 0, 0, 0),
        "Status__c": ("picklist", 255, 0, 0),
        "Days_Slipped__c": ("double", 0, 6, 0),
        "Depends_On__c": ("string", 255, 0, 0),
        "Why_It_Matters__c": ("string", 255, 0, 0),
        "Notes__c": ("textarea", 32768, 0, 0),
    }
    for name, shape in expected.items():
        f = field(schema, "MAP_Milestone__c", name)
        assert (f.type, f.length, f.precision, f.scale) == shape, name


def test_picklists_are_restricted_to_the_pinned_values_in_order(schema: Schema) -> None:
    expected = {
        ("Mutual_Action_Plan__c", "Status__c"): ("Active", "Completed", "Cancelled"),
        ("Mutual_Action_Plan__c", "Health__c"): ("On Track", "At Risk", "Off Track"),
        ("MAP_Milestone__c", "Owner_Side__c"): ("Buyer", "Seller", "Joint"),
        ("MAP_Milestone__c", "Status__c"):
            ("Not Started", "In Progress", "Done", "Blocked", "Skipped"),
        ("Opportunity", "MAP_Health__c"): ("On Track", "At Risk", "Off Track"),
    }
    for (obj, name), values in expected.items():
        f = field(schema, obj, name)
        assert f.picklist_values == values, name
        assert f.restricted_picklist, name
        assert f.default_value is None, name


def test_external_ids_are_unique_case_insensitive_and_usable_for_upsert(
        schema: Schema) -> None:
    for obj in ("Mutual_Action_Plan__c", "MAP_Milestone__c"):
        ext = field(schema, obj, "External_Id__c")
        assert ext.external_id, obj
        assert ext.unique, obj
        assert ext.id_lookup, obj
        assert not ext.case_sensitive, obj
        assert ext.nillable, obj  # required in practice, not by the schema
    assert not field(schema, "MAP_Milestone__c", "Key__c").external_id


def test_master_detail_plan_is_required_cascades_and_names_both_relationships(
        schema: Schema) -> None:
    plan = field(schema, "MAP_Milestone__c", "Plan__c")
    assert plan.reference_to == ("Mutual_Action_Plan__c",)
    assert plan.relationship_name == "Plan__r"
    assert plan.cascade_delete
    assert not plan.restricted_delete
    assert not plan.nillable
    assert plan.required
    assert plan.updateable  # reparentable: upserts of existing milestones carry the plan
    parent = schema.get("Mutual_Action_Plan__c")
    assert parent is not None
    assert ("MAP_Milestone__c", "Plan__c", "Milestones__r") in parent.child_relationships


def test_opportunity_lookup_clears_when_the_opportunity_is_deleted(schema: Schema) -> None:
    opp = field(schema, "Mutual_Action_Plan__c", "Opportunity__c")
    assert opp.reference_to == ("Opportunity",)
    assert opp.relationship_name == "Opportunity__r"
    assert opp.nillable
    assert not opp.required
    assert not opp.cascade_delete
    assert not opp.restricted_delete  # an Opportunity with a plan can be deleted
    parent = schema.get("Opportunity")
    assert parent is not None
    assert ("Mutual_Action_Plan__c", "Opportunity__c",
            "Mutual_Action_Plans__r") in parent.child_relationships


def test_optional_contact_lookup_is_nillable(schema: Schema) -> None:
    contact = field(schema, "MAP_Milestone__c", "Owner_Contact__c")
    assert contact.reference_to == ("Contact",)
    assert contact.relationship_name == "Owner_Contact__r"
    assert contact.nillable
    assert not contact.cascade_delete
    assert not contact.required
    assert not contact.restricted_delete  # SetNull: deleting the contact clears the field


def test_only_lookups_and_master_details_are_required_among_custom_fields(
        schema: Schema) -> None:
    required = {(obj.name, f.name) for obj in schema.objects.values()
                for f in obj.fields.values() if f.custom and not f.nillable}
    assert required == {("MAP_Milestone__c", "Plan__c")}


def test_opportunity_gains_the_map_rollup_fields(schema: Schema) -> None:
    expected = {
        "MAP_Health__c": ("picklist", 255, 0, 0),
        "MAP_Percent_Complete__c": ("percent", 0, 5, 2),
        "MAP_Days_Slipped__c": ("double", 0, 6, 0),
        "MAP_Projected_Close_Date__c": ("date", 0, 0, 0),
    }
    for name, shape in expected.items():
        f = field(schema, "Opportunity", name)
        assert (f.type, f.length, f.precision, f.scale) == shape, name
        assert f.custom, name
        assert f.nillable, name
        assert f.createable, name
        assert f.updateable, name
    opportunity = schema.get("Opportunity")
    assert opportunity is not None
    assert opportunity.key_prefix == "006"
    assert not opportunity.custom


def test_fields_on_a_standard_object_the_schema_lacks_are_an_error() -> None:
    schema = Schema()
    schema.add(SObjectDef(name="Contact", key_prefix="003"))
    schema.add(SObjectDef(name="Task", key_prefix="00T"))
    with pytest.raises(MetadataError, match="Opportunity"):
        apply_metadata(schema, default_metadata_dir())


def copy_project(tmp_path: Path) -> Path:
    target = tmp_path / "metadata"
    shutil.copytree(default_metadata_dir(), target)
    return target


def fields_dir(project: Path, obj: str) -> Path:
    return project / "force-app" / "main" / "default" / "objects" / obj / "fields"


def test_a_field_type_the_emulator_cannot_represent_is_an_error_not_skipped(
        tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (fields_dir(project, "MAP_Milestone__c") / "Score__c.field-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <fullName>Score__c</fullName>\n    <label>Score</label>\n"
        "    <type>Location</type>\n</CustomField>\n")
    with pytest.raises(MetadataError, match="Location"):
        apply_metadata(standard_schema(), project)


def test_a_new_field_in_the_metadata_appears_in_the_emulator(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (fields_dir(project, "MAP_Milestone__c") / "Is_Key__c.field-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <fullName>Is_Key__c</fullName>\n    <defaultValue>true</defaultValue>\n"
        "    <label>Key Milestone</label>\n    <type>Checkbox</type>\n</CustomField>\n")
    schema = standard_schema()
    apply_metadata(schema, project)
    flag = field(schema, "MAP_Milestone__c", "Is_Key__c")
    assert (flag.type, flag.default_value, flag.nillable, flag.label) == (
        "boolean", True, False, "Key Milestone")


def test_a_folder_without_sfdx_project_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match=r"sfdx-project\.json"):
        apply_metadata(standard_schema(), tmp_path)


def test_metadata_fits_onto_the_emulators_standard_objects() -> None:
    from connectors.emulator.standard_objects import standard_schema as real_standard_objects

    schema = real_standard_objects()
    prefixes_before = {o.key_prefix for o in schema.objects.values()}
    apply_metadata(schema, default_metadata_dir())
    plan = schema.get("Mutual_Action_Plan__c")
    assert plan is not None
    assert plan.key_prefix not in prefixes_before
    opportunity = schema.get("Opportunity")
    assert opportunity is not None
    assert opportunity.field("StageName") is not None  # the standard fields stay
    assert opportunity.field("map_health__c") is not None  # looked up case-insensitively
    contact = schema.get("Contact")
    assert contact is not None
    assert ("MAP_Milestone__c", "Owner_Contact__c", "MAP_Milestones__r") in (
        contact.child_relationships)


def test_activity_fields_are_added_to_task() -> None:
    schema = standard_schema()
    apply_metadata(schema, default_metadata_dir())
    key = field(schema, "Task", "MAP_External_Id__c")
    assert (key.type, key.length, key.external_id, key.unique) == ("string", 120, True, False)
    assert schema.get("Activity") is None
