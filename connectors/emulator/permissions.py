"""Who may do what in the local org: profiles, permission sets, field-level security.

A real org refuses an integration whose permission set lacks one field or one object; an
org without permissions would let such a gap reach production. So the local org grants
access as Salesforce does, from the same sfdx metadata an admin deploys:

- object permissions (``allowRead/Create/Edit/Delete``, ``viewAllRecords``,
  ``modifyAllRecords``) and field permissions (``readable``/``editable``) are read from
  ``permissionsets/*.permissionset-meta.xml``;
- a user's profile adds its own grants: ``System Administrator`` sees and changes all data,
  ``Standard User`` (the reps) reads, creates, edits and deletes Accounts, Contacts and
  Opportunities and every field of them, and the custom objects through the permission set
  ``Mapsync_Rep`` when the metadata has one, through the permission sets assigned to the rep
  when there are any (``Mapsync_User``: a real rep profile grants nothing on objects deployed
  later), and fully otherwise; and
  ``Minimum Access - API Only Integrations`` grants nothing but what is assigned;
- the integration user is given exactly ``Mapsync_Integration``.

Governed objects are Account, Contact, Opportunity and every custom object; the others
(User, Profile, Organization, OpportunityStage, ...) are readable by everyone, and
OpportunityContactRole and OpportunityTeamMember follow the Opportunity. Field-level security
governs the optional fields of governed objects; required and system fields go with the
object, as Salesforce does. Record access (sharing) is ``sharing.py``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

from connectors.emulator.schema import FieldDef, Schema, SObjectDef

NS = "{http://soap.sforce.com/2006/04/metadata}"
ADMIN_PROFILE = "System Administrator"
STANDARD_PROFILE = "Standard User"
MINIMUM_PROFILE = "Minimum Access - API Only Integrations"
INTEGRATION_SET = "Mapsync_Integration"
REP_SET = "Mapsync_Rep"
STANDARD_GOVERNED = ("Account", "Contact", "Opportunity")
FOLLOWS = {"OpportunityContactRole": "Opportunity",  # object → object whose access it has
           "OpportunityTeamMember": "Opportunity"}
ALWAYS_VISIBLE_FIELDS = frozenset({"Id", "Name", "OwnerId"})


@dataclass(frozen=True)
class ObjectGrant:
    """One object's permissions (``objectPermissions``)."""

    read: bool = False
    create: bool = False
    edit: bool = False
    delete: bool = False
    view_all: bool = False
    modify_all: bool = False

    def merged(self, other: ObjectGrant) -> ObjectGrant:
        return ObjectGrant(*(a or b for a, b in zip(self.flags(), other.flags(), strict=True)))

    def flags(self) -> tuple[bool, ...]:
        return (self.read, self.create, self.edit, self.delete, self.view_all, self.modify_all)


FULL = ObjectGrant(True, True, True, True, False, False)


@dataclass
class PermissionSet:
    """A permission set as deployed: object grants and (readable, editable) per field."""

    name: str
    objects: dict[str, ObjectGrant] = field(default_factory=dict)
    fields: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # "Obj.Field" →


def _flag(el: ET.Element, tag: str) -> bool:
    return (el.findtext(f"{NS}{tag}") or "").strip() == "true"


def parse_permission_set(path: Path) -> PermissionSet:
    """One ``*.permissionset-meta.xml``; names are kept as the file spells them."""
    root = ET.parse(path).getroot()  # noqa: S314 - the product's own metadata files
    pset = PermissionSet(path.name.split(".")[0])
    for el in root.findall(f"{NS}objectPermissions"):
        name = (el.findtext(f"{NS}object") or "").strip()
        pset.objects[name] = ObjectGrant(
            _flag(el, "allowRead"), _flag(el, "allowCreate"), _flag(el, "allowEdit"),
            _flag(el, "allowDelete"), _flag(el, "viewAllRecords"),
            _flag(el, "modifyAllRecords"))
    for el in root.findall(f"{NS}fieldPermissions"):
        name = (el.findtext(f"{NS}field") or "").strip()
        readable, editable = _flag(el, "readable"), _flag(el, "editable")
        pset.fields[name] = (readable or editable, editable)
    return pset


def load_permission_sets(metadata_dir: Path | None) -> dict[str, PermissionSet]:
    """Every permission set of the sfdx project (none when it has no such folder)."""
    if metadata_dir is None:
        return {}
    found = sorted(metadata_dir.glob("**/permissionsets/*.permissionset-meta.xml"))
    return {p.name: p for p in map(parse_permission_set, found)}


@dataclass
class Grants:
    """One user's effective access: profile plus assigned permission sets."""

    all_data: bool = False  # View All Data + Modify All Data (System Administrator)
    objects: dict[str, ObjectGrant] = field(default_factory=dict)
    fields: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    all_fields: set[str] = field(default_factory=set)  # objects whose every field is granted

    def add(self, pset: PermissionSet) -> None:
        for name, grant in pset.objects.items():
            self.objects[name] = self.objects.get(name, ObjectGrant()).merged(grant)
        for name, (readable, editable) in pset.fields.items():
            old = self.fields.get(name, (False, False))
            self.fields[name] = (old[0] or readable, old[1] or editable)

    def object(self, obj: SObjectDef) -> ObjectGrant:
        """The grant on ``obj`` (everything for an admin, read for ungoverned objects)."""
        if self.all_data:
            return ObjectGrant(True, True, True, True, True, True)
        name = FOLLOWS.get(obj.name, obj.name)
        if not governed(obj) and name == obj.name:
            return ObjectGrant(read=True, create=True, edit=True, delete=True)
        return self.objects.get(name, ObjectGrant())

    def field_access(self, obj: SObjectDef, f: FieldDef) -> tuple[bool, bool]:
        """(readable, editable) of ``f``, object permission aside."""
        if self.all_data or not governed(obj) or not fls_governed(f) \
                or FOLLOWS.get(obj.name, obj.name) in self.all_fields:
            return True, True
        return self.fields.get(f"{obj.name}.{f.name}", (False, False))


def governed(obj: SObjectDef) -> bool:
    """Whether object permissions decide access to ``obj`` (else everyone may read it)."""
    return obj.custom or obj.name in STANDARD_GOVERNED or obj.name in FOLLOWS


def fls_governed(f: FieldDef) -> bool:
    """Whether field-level security applies: optional, non-system fields."""
    return not f.system and f.name not in ALWAYS_VISIBLE_FIELDS and \
        (f.nillable or f.type == "boolean")


def profile_grants(profile: str, schema: Schema, sets: dict[str, PermissionSet],
                   assigned: tuple[str, ...] = ()) -> Grants:
    """What a profile gives by itself; ``assigned``: the user's own permission sets."""
    if profile == ADMIN_PROFILE:
        return Grants(all_data=True)
    grants = Grants()
    if profile == STANDARD_PROFILE:
        for name in STANDARD_GOVERNED:
            grants.objects[name] = FULL
            grants.all_fields.add(name)
        if REP_SET in sets:
            grants.add(sets[REP_SET])
        elif not assigned:
            for obj in schema.objects.values():
                if obj.custom:
                    grants.objects[obj.name] = FULL
                    grants.all_fields.add(obj.name)
    return grants


def visible_schema(schema: Schema, grants: Grants) -> Schema:
    """``schema`` as this user sees it: no unreadable objects, no unreadable fields.

    Describe and SOQL answer from this view, so an unreadable field is absent from describe
    and ``No such column`` in a query, a read-only one neither createable nor updateable,
    and an unreadable object ``not supported``.
    """
    if grants.all_data:
        return schema
    view = Schema()
    for obj in schema.objects.values():
        if not grants.object(obj).read:
            continue
        fields = {}
        for name, f in obj.fields.items():
            readable, editable = grants.field_access(obj, f)
            if readable:
                f = f if editable else replace(f, createable=False, updateable=False)
                fields[name] = _hide_lookup(f, schema, grants)
        view.add(replace(obj, fields=fields, child_relationships=[]))
    view.link_children()
    return view


def _hide_lookup(f: FieldDef, schema: Schema, grants: Grants) -> FieldDef:
    """A lookup to an object the user cannot read keeps its Id but loses its relationship."""
    if f.type != "reference" or not f.relationship_name:
        return f
    targets = [t for t in map(schema.get, f.reference_to) if t is not None]
    if any(grants.object(t).read for t in targets):
        return f
    return replace(f, relationship_name=None)
