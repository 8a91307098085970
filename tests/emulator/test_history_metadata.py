"""History tracking is read from the deployable metadata and refused where a deploy is.

Salesforce refuses a deploy that tracks more than 20 fields on one object, or tracks fields
on an object without history; the local org refuses to load such metadata, with one clear
error, instead of starting with a history Salesforce would never keep.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.metadata_loader import MetadataError, default_metadata_dir
from connectors.emulator.org import build_schema


def _project_with(tmp_path: Path, edit: Any) -> Path:
    project = tmp_path / "metadata"
    shutil.copytree(default_metadata_dir(), project)
    edit(project / "force-app" / "main" / "default" / "objects")
    return project


def _tracked_text_field(name: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n'
            f"    <fullName>{name}</fullName>\n    <label>{name}</label>\n"
            "    <length>80</length>\n    <trackHistory>true</trackHistory>\n"
            "    <type>Text</type>\n</CustomField>\n")


def test_more_than_20_tracked_fields_refused_at_load(tmp_path: Path) -> None:
    def add_fields(objects: Path, count: int) -> None:
        for n in range(count):
            (objects / "MAP_Milestone__c" / "fields" / f"Extra_{n}__c.field-meta.xml"
             ).write_text(_tracked_text_field(f"Extra_{n}__c"))

    tracked_now = sum(1 for f in build_schema(default_metadata_dir())
                      .objects["MAP_Milestone__c"].fields.values() if f.track_history)
    at_limit = _project_with(tmp_path / "a", lambda o: add_fields(o, 20 - tracked_now))
    assert "MAP_Milestone__History" in build_schema(at_limit).objects
    over = _project_with(tmp_path / "b", lambda o: add_fields(o, 21 - tracked_now))
    with pytest.raises(MetadataError, match="tracks history of 21 fields; Salesforce allows "
                                            "at most 20 per object"):
        build_schema(over)


def test_tracked_field_on_object_without_history_refused_at_load(tmp_path: Path) -> None:
    def disable(objects: Path) -> None:
        meta = objects / "Mutual_Action_Plan__c" / "Mutual_Action_Plan__c.object-meta.xml"
        meta.write_text(meta.read_text().replace("<enableHistory>true</enableHistory>",
                                                 "<enableHistory>false</enableHistory>"))

    with pytest.raises(MetadataError, match="does not enable history"):
        build_schema(_project_with(tmp_path, disable))


def test_standard_field_settings_for_an_unknown_field_refused_at_load(tmp_path: Path) -> None:
    def misspell(objects: Path) -> None:
        (objects / "Opportunity" / "fields" / "StageNam.field-meta.xml").write_text(
            _tracked_text_field("StageNam"))

    with pytest.raises(MetadataError, match="Opportunity has no standard field StageNam"):
        build_schema(_project_with(tmp_path, misspell))


def test_history_follows_the_metadata() -> None:
    schema = build_schema(default_metadata_dir())
    tracked = {name: sorted(f.name for f in schema.objects[name].fields.values()
                            if f.track_history)
               for name in ("MAP_Milestone__c", "Mutual_Action_Plan__c", "Opportunity")}
    assert tracked == {
        "MAP_Milestone__c": ["Completed_Date__c", "Due_Date__c", "Name", "Notes__c",
                             "Owner_Contact__c", "Owner_User__c", "Status__c",
                             "Why_It_Matters__c"],
        "Mutual_Action_Plan__c": ["Compelling_Event_Date__c", "Go_Live_Date__c", "Status__c",
                                  "Success_Criteria__c", "Summary__c", "Template__c"],
        "Opportunity": ["Amount", "CloseDate", "StageName"],
    }
    assert schema.objects["MAP_Milestone__History"].fields["Field"].picklist_values[0] == \
        "created"
