"""Reads the deployable sfdx metadata into the emulator's schema.

The custom objects and fields an admin deploys to a real org live as sfdx source under
``connectors/salesforce/metadata``. The emulator builds its custom objects from those very
files instead of a second hand-written copy, so a field that is renamed, lengthened or given
a new picklist value changes the deployed org and the local org together.

Each metadata type is translated to what Salesforce's describe reports for it (``Text`` →
``string``, ``Number`` → ``double`` whatever its scale, ``MasterDetail`` → a non-nillable
``reference`` that cascades deletes, ...). Custom objects get the standard fields every
custom object has, and a key prefix (``a01``, ``a02``, ...) given in a fixed order: masters
before their details, then by name. A type the emulator cannot represent is an error, never
skipped.

History tracking is read as Salesforce deploys it: ``<enableHistory>`` on the object (for a
standard object, in its own ``Opportunity.object-meta.xml``), ``<trackHistory>`` on each
tracked field (a standard field is named by a field file holding only its settings, e.g.
``Opportunity/fields/StageName.field-meta.xml``; a custom object's ``Name`` by its
``<nameField>``). Tracked fields on an object without history, or more than 20 tracked
fields on one object, are refused as a deploy would be.

The emulator is stricter than Salesforce in one place: a custom object's ``Name`` must be
given on create (Salesforce would fill it with the record Id).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from connectors.emulator.history import MAX_TRACKED_FIELDS
from connectors.emulator.schema import FieldDef, Schema, SObjectDef

NS = "{http://soap.sforce.com/2006/04/metadata}"

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Metadata field type → (describe type, default length when the XML gives none).
_SIMPLE_TYPES: dict[str, tuple[str, int]] = {
    "Text": ("string", 0),
    "TextArea": ("textarea", 255),
    "LongTextArea": ("textarea", 0),
    "Html": ("textarea", 0),
    "Email": ("email", 80),
    "Phone": ("phone", 40),
    "Url": ("url", 255),
    "Picklist": ("picklist", 255),
    "MultiselectPicklist": ("multipicklist", 4099),
    "Number": ("double", 0),
    "Currency": ("currency", 0),
    "Percent": ("percent", 0),
    "Date": ("date", 0),
    "DateTime": ("datetime", 0),
    "Checkbox": ("boolean", 0),
}


#: Custom activity fields are deployed on ``Activity`` and appear on its objects (Task and
#: Event; the local org serves Task).
ACTIVITY_OBJECTS = {"Activity": "Task"}


class MetadataError(ValueError):
    """The metadata folder holds something the emulator cannot turn into schema."""


def default_metadata_dir() -> Path:
    """The sfdx project shipped with the product (``connectors/salesforce/metadata``)."""
    return Path(__file__).resolve().parent.parent / "salesforce" / "metadata"


def apply_metadata(schema: Schema, metadata_dir: Path) -> None:
    """Add the custom objects and fields of the sfdx project at ``metadata_dir`` to ``schema``.

    Fields on standard objects (``Opportunity/fields/MAP_*``) are added to the object already
    in ``schema`` (``Activity/fields`` to Task); a field on a standard object the schema
    lacks is a ``MetadataError``. Child relationships are relinked afterwards.
    """
    object_dirs = sorted(_object_dirs(metadata_dir), key=lambda d: d.name.lower())
    custom = [d for d in object_dirs if d.name.endswith("__c")]
    fields_by_object = {d.name: [_field_def(p) for p in _field_files(d)
                                 if d.name.endswith("__c") or p.name.split(".")[0].endswith("__c")]
                        for d in object_dirs}

    for obj_dir in _masters_first(custom, fields_by_object):
        name = obj_dir.name
        existing = schema.get(name)
        prefix = existing.key_prefix if existing else _next_key_prefix(schema)
        obj = _custom_object(obj_dir, prefix, fields_by_object[name])
        schema.add(obj)

    for obj_dir in object_dirs:
        if obj_dir.name.endswith("__c"):
            continue
        target = schema.get(ACTIVITY_OBJECTS.get(obj_dir.name, obj_dir.name))
        if target is None:
            raise MetadataError(
                f"{obj_dir}: fields for standard object {obj_dir.name}, "
                "which the schema does not have"
            )
        for f in fields_by_object[obj_dir.name]:
            target.add(f)
        _standard_history(obj_dir, target)

    for obj_dir in object_dirs:
        loaded = schema.get(ACTIVITY_OBJECTS.get(obj_dir.name, obj_dir.name))
        if loaded is not None:
            _check_history(obj_dir, loaded)
    schema.link_children()


def _standard_history(obj_dir: Path, obj: SObjectDef) -> None:
    """History settings of a standard object: ``<enableHistory>`` in its object file, and
    standard field files (``fields/StageName.field-meta.xml``) that carry ``<trackHistory>``."""
    meta_file = obj_dir / f"{obj_dir.name}.object-meta.xml"
    if meta_file.is_file():
        obj.history_enabled = _flag(_parse(meta_file), "enableHistory")
    for path in _field_files(obj_dir):
        name = path.name.removesuffix(".field-meta.xml")
        if name.endswith("__c"):
            continue
        root = _parse(path)
        full_name = _text(root, "fullName") or name
        known = obj.field(full_name)
        if known is None or known.custom:
            raise MetadataError(f"{path}: {obj.name} has no standard field {full_name}")
        obj.add(replace(known, track_history=_flag(root, "trackHistory")))


def _check_history(obj_dir: Path, obj: SObjectDef) -> None:
    """Refuse what Salesforce refuses to deploy: tracked fields on an object without history,
    more than 20 tracked fields on one object."""
    tracked = [f.name for f in obj.fields.values() if f.track_history]
    if tracked and not obj.history_enabled:
        raise MetadataError(
            f"{obj_dir}: {obj.name} tracks history of {', '.join(tracked)} but does not "
            "enable history (<enableHistory>true</enableHistory>)")
    if len(tracked) > MAX_TRACKED_FIELDS:
        raise MetadataError(
            f"{obj_dir}: {obj.name} tracks history of {len(tracked)} fields; Salesforce "
            f"allows at most {MAX_TRACKED_FIELDS} per object")


def _object_dirs(metadata_dir: Path) -> Iterator[Path]:
    project_file = metadata_dir / "sfdx-project.json"
    if not project_file.is_file():
        raise MetadataError(f"{metadata_dir}: no sfdx-project.json")
    project = json.loads(project_file.read_text(encoding="utf-8"))
    for package in project.get("packageDirectories", []):
        root = metadata_dir / package["path"]
        for objects in sorted(root.rglob("objects")):
            if objects.is_dir():
                yield from (d for d in sorted(objects.iterdir()) if d.is_dir())


def _field_files(obj_dir: Path) -> list[Path]:
    fields = obj_dir / "fields"
    return sorted(fields.glob("*.field-meta.xml")) if fields.is_dir() else []


def _masters_first(custom: list[Path], fields: dict[str, list[FieldDef]]) -> list[Path]:
    """Order custom objects by master-detail depth, then name, so prefixes are stable."""
    names = {d.name.lower() for d in custom}
    masters = {
        d.name.lower(): [t.lower() for f in fields[d.name] if f.cascade_delete
                         for t in f.reference_to if t.lower() in names]
        for d in custom
    }

    def depth(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in seen:
            raise MetadataError(f"master-detail cycle through {name}")
        return max((1 + depth(m, seen | {name}) for m in masters[name]), default=0)

    return sorted(custom, key=lambda d: (depth(d.name.lower()), d.name.lower()))


def _next_key_prefix(schema: Schema) -> str:
    for i in range(1, len(_BASE62) ** 2):
        prefix = "a" + _BASE62[i // len(_BASE62)] + _BASE62[i % len(_BASE62)]
        if schema.by_prefix(prefix) is None:
            return prefix
    raise MetadataError("no custom object key prefix left")


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()  # noqa: S314 - the product's own metadata files
    except ET.ParseError as exc:
        raise MetadataError(f"{path}: {exc}") from exc


def _text(element: ET.Element, tag: str, default: str = "") -> str:
    child = element.find(NS + tag)
    return (child.text or "").strip() if child is not None else default


def _flag(element: ET.Element, tag: str) -> bool:
    return _text(element, tag, "false") == "true"


def _int(element: ET.Element, tag: str) -> int:
    value = _text(element, tag)
    return int(value) if value else 0


def _custom_object(obj_dir: Path, prefix: str, fields: list[FieldDef]) -> SObjectDef:
    meta_file = obj_dir / f"{obj_dir.name}.object-meta.xml"
    if not meta_file.is_file():
        raise MetadataError(f"{obj_dir}: custom object without {meta_file.name}")
    root = _parse(meta_file)
    is_detail = any(f.cascade_delete for f in fields)
    obj = SObjectDef(
        name=obj_dir.name,
        key_prefix=prefix,
        label=_text(root, "label", obj_dir.name),
        label_plural=_text(root, "pluralLabel", obj_dir.name),
        custom=True,
        history_enabled=_flag(root, "enableHistory"),
    )
    for f in _standard_fields(root, meta_file, with_owner=not is_detail):
        obj.add(f)
    for f in fields:
        obj.add(f)
    return obj


def _standard_fields(root: ET.Element, meta_file: Path, with_owner: bool) -> list[FieldDef]:
    server_set = FieldDef(name="", type="", nillable=False, createable=False, updateable=False,
                          system=True)
    fields = [
        replace(server_set, name="Id", type="id", label="Record ID", length=18, id_lookup=True),
        _name_field(root, meta_file),
        replace(server_set, name="IsDeleted", type="boolean", label="Deleted"),
        replace(server_set, name="CreatedDate", type="datetime", label="Created Date"),
        replace(server_set, name="CreatedById", type="reference", label="Created By ID",
                length=18, reference_to=("User",), relationship_name="CreatedBy"),
        replace(server_set, name="LastModifiedDate", type="datetime",
                label="Last Modified Date"),
        replace(server_set, name="LastModifiedById", type="reference",
                label="Last Modified By ID", length=18, reference_to=("User",),
                relationship_name="LastModifiedBy"),
        replace(server_set, name="SystemModstamp", type="datetime", label="System Modstamp"),
    ]
    if with_owner:
        # The server fills in the running user when a create leaves it out.
        fields.append(FieldDef(name="OwnerId", type="reference", label="Owner ID", length=18,
                               nillable=False, reference_to=("Group", "User"),
                               relationship_name="Owner", default_value="$user"))
    return fields


def _name_field(root: ET.Element, meta_file: Path) -> FieldDef:
    name_el = root.find(NS + "nameField")
    if name_el is None:
        raise MetadataError(f"{meta_file}: no nameField")
    label = _text(name_el, "label", "Name")
    kind = _text(name_el, "type")
    if kind == "Text":
        return FieldDef(name="Name", type="string", label=label, length=80, nillable=False,
                        id_lookup=True, track_history=_flag(name_el, "trackHistory"))
    if kind == "AutoNumber":
        return FieldDef(name="Name", type="string", label=label, length=30, nillable=False,
                        createable=False, updateable=False, id_lookup=True, system=True)
    raise MetadataError(f"{meta_file}: nameField type {kind!r} is not Text or AutoNumber")


def _field_def(path: Path) -> FieldDef:
    root = _parse(path)
    name = _text(root, "fullName") or path.name.removesuffix(".field-meta.xml")
    kind = _text(root, "type")
    label = _text(root, "label", name)
    required = _flag(root, "required")
    unique = _flag(root, "unique")
    external_id = _flag(root, "externalId")
    common = FieldDef(
        name=name, type="", label=label, custom=True, unique=unique, external_id=external_id,
        id_lookup=unique or external_id, case_sensitive=_flag(root, "caseSensitive"),
        track_history=_flag(root, "trackHistory"),
    )
    if root.find(NS + "formula") is not None:
        raise MetadataError(f"{path}: formula fields are not supported by the emulator")

    if kind in ("Lookup", "MasterDetail"):
        master = kind == "MasterDetail"
        target = _text(root, "referenceTo")
        if not target:
            raise MetadataError(f"{path}: {kind} without referenceTo")
        return replace(
            common,
            type="reference", length=18, reference_to=(target,),
            relationship_name=name.removesuffix("__c") + "__r",
            relationship_plural=_child_relationship(root),
            nillable=not (master or required),
            updateable=_flag(root, "reparentableMasterDetail") if master else True,
            cascade_delete=master or _text(root, "deleteConstraint") == "Cascade",
            restricted_delete=not master and _text(root, "deleteConstraint") == "Restrict",
        )

    if kind not in _SIMPLE_TYPES:
        raise MetadataError(f"{path}: field type {kind!r} is not supported by the emulator")
    describe_type, default_length = _SIMPLE_TYPES[kind]
    values, restricted, default = _picklist(root)
    if kind == "Checkbox":
        default = _text(root, "defaultValue", "false").lower() == "true"
    elif root.find(NS + "defaultValue") is not None:
        raise MetadataError(f"{path}: formula default values are not supported by the emulator")
    return replace(
        common,
        type=describe_type,
        length=_int(root, "length") or default_length,
        precision=_int(root, "precision"),
        scale=_int(root, "scale"),
        nillable=not required and kind != "Checkbox",
        picklist_values=values,
        restricted_picklist=restricted,
        default_value=default,
    )


def _child_relationship(root: ET.Element) -> str | None:
    """The parent's name for the children (``relationshipName`` plus ``__r``)."""
    name = _text(root, "relationshipName")
    return name + "__r" if name else None


def _picklist(root: ET.Element) -> tuple[tuple[str, ...], bool, object]:
    value_set = root.find(NS + "valueSet")
    if value_set is None:
        return (), False, None
    values: list[str] = []
    default: object = None
    for value in value_set.iterfind(f"{NS}valueSetDefinition/{NS}value"):
        api_name = _text(value, "fullName")
        values.append(api_name)
        if _flag(value, "default"):
            default = api_name
    return tuple(values), _flag(value_set, "restricted"), default
