"""The history objects of the org, declared as Salesforce declares them.

mapsync decides who changed a field last (a rep or mapsync itself) from Salesforce's own
field history, so the local org keeps that history exactly as a real org does:

- ``<Object>__History`` for a custom object whose metadata enables history
  (``<enableHistory>``): ``ParentId``, ``Field``, ``DataType``, ``OldValue``, ``NewValue``,
  ``CreatedById``, ``CreatedDate``, ``IsDeleted``; one row ``Field = 'created'`` on insert and
  one row per tracked field (``<trackHistory>``) that a save changes;
- ``OpportunityFieldHistory``, the same for the Opportunity's tracked standard and custom
  fields, with ``OpportunityId`` in place of ``ParentId``;
- ``OpportunityHistory``, the stage history: always on, not configurable, one row with the
  Opportunity's stage, amount, close date, probability, forecast category and expected
  revenue on create and whenever one of those changes.

Field history rows share the key prefix ``017`` (one Id sequence for all of them), stage
history rows have ``008``. History objects are read-only: only the server writes them, in
the same transaction as the change they record (``history_writer``). ``OldValue`` and
``NewValue`` are ``anyType``: neither filterable nor sortable in SOQL.
"""

from __future__ import annotations

from dataclasses import replace

from connectors.emulator.schema import FieldDef, Schema, SObjectDef

FIELD_HISTORY_PREFIX = "017"
STAGE_HISTORY_PREFIX = "008"
MAX_TRACKED_FIELDS = 20
CREATED = "created"

# describe type → Salesforce's DataType of a field history row
DATA_TYPES = {
    "string": "Text", "textarea": "TextArea", "picklist": "DynamicEnum",
    "multipicklist": "MultiEnum", "email": "Email", "phone": "Phone", "url": "Url",
    "double": "Double", "currency": "Currency", "percent": "Percent", "int": "Double",
    "boolean": "Boolean", "date": "DateOnly", "datetime": "DateTime", "reference": "EntityId",
}
LONG_TEXT_DATA_TYPE = "StringPlusClob"
# the fields whose change writes an OpportunityHistory row, and its name for each
STAGE_HISTORY_FIELDS = {
    "StageName": "StageName", "Amount": "Amount", "CloseDate": "CloseDate",
    "Probability": "Probability", "ForecastCategoryName": "ForecastCategory",
    "ExpectedRevenue": "ExpectedRevenue",
}
# Opportunity.ForecastCategoryName → OpportunityHistory.ForecastCategory
FORECAST_CATEGORIES = {"Omitted": "Omitted", "Pipeline": "Pipeline", "Best Case": "BestCase",
                       "Commit": "Forecast", "Closed": "Closed"}


def history_name(obj: SObjectDef) -> str:
    """The field history object of ``obj`` (``X__c`` → ``X__History``)."""
    if obj.name == "Opportunity":
        return "OpportunityFieldHistory"
    if obj.name.endswith("__c"):
        return obj.name[:-3] + "__History"
    return obj.name + "History"


def parent_field_name(obj: SObjectDef) -> str:
    """``ParentId`` for custom objects, ``<Object>Id`` for standard ones."""
    return "ParentId" if obj.custom else obj.name + "Id"


def is_long_text(f: FieldDef) -> bool:
    """Long text areas and multi-select picklists: recorded as changed, without values."""
    return (f.type == "textarea" and f.length > 255) or f.type == "multipicklist"


def data_type(f: FieldDef) -> str:
    return LONG_TEXT_DATA_TYPE if f.type == "textarea" and f.length > 255 else \
        DATA_TYPES.get(f.type, "Text")


def tracked_fields(obj: SObjectDef) -> list[FieldDef]:
    return [f for f in obj.fields.values() if f.track_history]


def _server(name: str, type_: str, label: str, **kw: object) -> FieldDef:
    base = FieldDef(name=name, type=type_, label=label, createable=False, updateable=False,
                    system=True)
    return replace(base, **kw)  # type: ignore[arg-type]


def _header(parent: SObjectDef, parent_field: str, label: str) -> list[FieldDef]:
    relationship = "Parent" if parent_field == "ParentId" else parent.name
    return [
        _server("Id", "id", f"{label} ID", length=18, nillable=False, id_lookup=True),
        _server("IsDeleted", "boolean", "Deleted", nillable=False),
        _server(parent_field, "reference", f"{parent.label or parent.name} ID", length=18,
                nillable=False, reference_to=(parent.name,), relationship_name=relationship,
                relationship_plural="Histories"),
        _server("CreatedById", "reference", "Created By ID", length=18, nillable=False,
                reference_to=("User",), relationship_name="CreatedBy"),
        _server("CreatedDate", "datetime", "Created Date", nillable=False),
    ]


def field_history_object(parent: SObjectDef) -> SObjectDef:
    """``X__History`` / ``OpportunityFieldHistory`` for ``parent``'s tracked fields."""
    label = f"{parent.label or parent.name} History"
    obj = SObjectDef(name=history_name(parent), key_prefix=FIELD_HISTORY_PREFIX, label=label,
                     label_plural=f"{label}s" if not label.endswith("y") else label[:-1] + "ies",
                     custom=False, read_only=True)
    picklist_names = (CREATED, *(f.name for f in tracked_fields(parent)))
    for f in [
        *_header(parent, parent_field_name(parent), label),
        _server("Field", "picklist", "Changed Field", length=255, nillable=False,
                picklist_values=picklist_names, restricted_picklist=True),
        _server("DataType", "picklist", "Data Type", length=40,
                picklist_values=tuple(sorted({*DATA_TYPES.values(), LONG_TEXT_DATA_TYPE})),
                restricted_picklist=True),
        _server("OldValue", "anytype", "Old Value", length=255),
        _server("NewValue", "anytype", "New Value", length=255),
    ]:
        obj.add(f)
    return obj


def stage_history_object(opportunity: SObjectDef) -> SObjectDef:
    """``OpportunityHistory``: the Opportunity's stage history."""
    obj = SObjectDef(name="OpportunityHistory", key_prefix=STAGE_HISTORY_PREFIX,
                     label="Opportunity History", label_plural="Opportunity History",
                     read_only=True)
    stage = opportunity.fields["StageName"]
    header = _header(opportunity, "OpportunityId", "Opportunity History")
    header[2] = replace(header[2], relationship_plural="OpportunityHistories")
    for f in [
        *header,
        _server("StageName", "picklist", "Stage Name", length=255, nillable=False,
                picklist_values=stage.picklist_values, restricted_picklist=True),
        _server("Amount", "currency", "Amount", precision=18, scale=2),
        _server("ExpectedRevenue", "currency", "Expected Revenue", precision=18, scale=2),
        _server("CloseDate", "date", "Close Date"),
        _server("Probability", "percent", "Probability", precision=3, scale=0),
        _server("ForecastCategory", "picklist", "To Forecast Category", length=40,
                picklist_values=("BestCase", "Closed", "Forecast", "MostLikely", "Omitted",
                                 "Pipeline"), restricted_picklist=True),
        _server("PrevAmount", "currency", "Previous Amount", precision=18, scale=2),
        _server("PrevCloseDate", "date", "Previous Close Date"),
        _server("SystemModstamp", "datetime", "System Modstamp", nillable=False),
    ]:
        obj.add(f)
    return obj


def add_history_objects(schema: Schema) -> None:
    """Add the history object of every object with history enabled, and the Opportunity's
    stage and field history (standard objects, always present)."""
    for parent in list(schema.objects.values()):
        if parent.read_only:
            continue
        if parent.history_enabled or parent.name == "Opportunity":
            schema.add(field_history_object(parent))
    opportunity = schema.get("Opportunity")
    if opportunity is not None:
        schema.add(stage_history_object(opportunity))
    schema.link_children()
