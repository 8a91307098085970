"""Describe answers: what the org says about its objects and fields.

Clients learn the org from describe (the connector checks the MAP fields exist, RevOps
validate mappings against the live stage picklist, the sf CLI lists objects), so the shapes
follow Salesforce's describe results key for key, built from the one schema.
"""

from __future__ import annotations

from connectors.emulator.history import FIELD_HISTORY_PREFIX
from connectors.emulator.schema import FieldDef, Schema, SObjectDef

SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean",
              "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
              "int": "xsd:int", "long": "xsd:long", "date": "xsd:date",
              "datetime": "xsd:dateTime", "anytype": "xsd:anyType"}
# types SOQL can neither filter, sort nor group on
UNQUERYABLE = frozenset({"textarea", "anytype"})
SETUP_OBJECTS = frozenset({"Organization", "OpportunityStage", "Profile"})


def object_urls(obj: SObjectDef, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def associate_parent(obj: SObjectDef) -> str | None:
    """The object a field-history object keeps the history of (``associateParentEntity``):
    ``Plan__History`` → ``Plan__c``, ``OpportunityFieldHistory`` → ``Opportunity``."""
    if obj.key_prefix != FIELD_HISTORY_PREFIX:
        return None
    if obj.name.endswith("__History"):
        return obj.name.removesuffix("__History") + "__c"
    return obj.name.removesuffix("FieldHistory") or None


def object_summary(obj: SObjectDef, version: str) -> dict[str, object]:
    """The per-object entry of the global describe (``GET /sobjects``), key for key as
    Salesforce lists it; ETL tools (tap-salesforce, Airbyte) decide from ``queryable`` and
    ``replicateable`` which objects to offer, and skip history by ``associateEntityType``."""
    writable = obj.name not in SETUP_OBJECTS and not obj.read_only
    parent = associate_parent(obj)
    urls = object_urls(obj, version)
    if writable:
        base = urls["sobject"]
        urls.update(approvalLayouts=f"{base}/describe/approvalLayouts",
                    compactLayouts=f"{base}/describe/compactLayouts",
                    layouts=f"{base}/describe/layouts", listviews=f"{base}/listviews",
                    quickActions=f"{base}/quickActions")
    return {
        "activateable": False, "associateEntityType": "History" if parent else None,
        "associateParentEntity": parent, "createable": writable,
        "custom": obj.custom or bool(parent and parent.endswith("__c")),
        "customSetting": False, "deepCloneable": False, "deletable": writable,
        "deprecatedAndHidden": False, "feedEnabled": False, "hasSubtypes": False,
        "isInterface": False, "isSubtype": False, "keyPrefix": obj.key_prefix,
        "label": obj.label or obj.name, "labelPlural": obj.label_plural or obj.name,
        "layoutable": writable, "mergeable": False, "mruEnabled": writable,
        "name": obj.name, "queryable": True,
        "replicateable": "SystemModstamp" in obj.fields, "retrieveable": True,
        "searchable": writable, "triggerable": writable, "undeletable": writable,
        "updateable": writable, "urls": urls,
    }


def field_describe(f: FieldDef) -> dict[str, object]:
    """One entry of ``fields`` in ``/sobjects/X/describe``."""
    is_text = f.type not in SOAP_TYPES or f.type == "anytype"
    return {
        "aggregatable": f.type not in ("textarea", "multipicklist", "anytype"),
        "autoNumber": False,
        "byteLength": f.length * 3 if is_text or f.type in ("id", "reference") else 0,
        "calculated": False, "cascadeDelete": f.cascade_delete,
        "caseSensitive": f.case_sensitive, "createable": f.createable, "custom": f.custom,
        "defaultValue": (f.default_value if f.default_value not in (None, "$user")
                         else None),
        "defaultedOnCreate": f.system or f.default_value is not None or f.type == "boolean",
        "dependentPicklist": False, "deprecatedAndHidden": False,
        "digits": f.precision if f.type in ("int", "long") else 0,
        "externalId": f.external_id,
        "filterable": f.type not in UNQUERYABLE,
        "groupable": f.type not in (*UNQUERYABLE, "double", "currency", "percent", "datetime"),
        "idLookup": f.id_lookup or f.name == "Id", "inlineHelpText": None,
        "label": f.label or f.name,
        "length": f.length if is_text or f.type in ("id", "reference") else 0,
        "name": f.name, "nameField": f.name == "Name", "nillable": f.nillable,
        "permissionable": f.nillable and not f.system,
        "picklistValues": [{"active": True, "defaultValue": False, "label": v, "validFor": None,
                            "value": v} for v in f.picklist_values],
        "precision": f.precision if f.type in ("double", "currency", "percent") else 0,
        "referenceTo": list(f.reference_to), "relationshipName": f.relationship_name,
        "relationshipOrder": 0 if f.cascade_delete and not f.nillable else None,
        "restrictedPicklist": f.restricted_picklist,
        "scale": f.scale, "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.type not in (*UNQUERYABLE, "multipicklist"),
        "type": "anyType" if f.type == "anytype" else f.type, "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


def object_describe(schema: Schema, obj: SObjectDef, version: str) -> dict[str, object]:
    """``GET /sobjects/X/describe``."""
    out = object_summary(obj, version)
    out.update({
        "actionOverrides": [], "compactLayoutable": True, "encoding": "UTF-8",
        "childRelationships": [{
            "cascadeDelete": bool(getattr(_child_field(schema, child, fname), "cascade_delete",
                                          False)),
            "childSObject": child, "deprecatedAndHidden": False, "field": fname,
            "junctionIdListNames": [], "junctionReferenceTo": [],
            "relationshipName": rel,
            "restrictedDelete": bool(getattr(_child_field(schema, child, fname),
                                             "restricted_delete", False)),
        } for child, fname, rel in obj.child_relationships],
        "fields": [field_describe(f) for f in obj.fields.values()],
        "namedLayoutInfos": [], "networkScopeFieldName": None, "recordTypeInfos": [],
        "sobjectDescribeOption": "FULL", "supportedScopes": [],
    })
    urls = dict(object_urls(obj, version))
    base = urls["sobject"]
    urls.update(compactLayouts=f"{base}/describe/compactLayouts",
                layouts=f"{base}/describe/layouts", quickActions=f"{base}/quickActions")
    out["urls"] = urls
    return out


def _child_field(schema: Schema, child: str, fname: str) -> FieldDef | None:
    obj = schema.get(child)
    return obj.field(fname) if obj else None
