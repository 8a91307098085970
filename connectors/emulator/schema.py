"""The emulator's schema model: what an sObject and its fields are.

Every part of the local org reads the same description of an object: describe answers
from it, record validation checks against it, the SOQL compiler resolves names with it and
storage lays out one SQLite table per object from it. Standard objects are declared in code
(``standard_objects.py``); custom objects are read from the deployable sfdx metadata at
start-up (``metadata_loader.py``), so the emulator and what an admin deploys cannot drift.

Storage layout (shared contract between storage and the SOQL compiler):
- one SQLite table per object, named exactly as the object's API name (quoted);
- one column per field, named exactly as the field's API name;
- values: text for id/string/textarea/picklist/multipicklist ("A;B")/reference/email/
  phone/url; ``YYYY-MM-DD`` text for date; ``YYYY-MM-DDTHH:MM:SS.fff+0000`` text (UTC)
  for datetime, so text order is time order; REAL for double/currency/percent; INTEGER
  for int; INTEGER 0/1 for boolean; NULL for null;
- every table has ``Id`` (primary key) and ``IsDeleted`` (0/1); queryAll sees rows with
  ``IsDeleted = 1``, query does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Salesforce describe types the emulator knows.
TEXT_TYPES = frozenset(
    {"id", "string", "textarea", "picklist", "multipicklist", "reference", "email", "phone", "url",
     "combobox", "encryptedstring"}
)
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})
TEMPORAL_TYPES = frozenset({"date", "datetime"})
# ``anytype``: a history row's OldValue/NewValue, stored as JSON text, neither filterable nor
# sortable in SOQL.


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject, in Salesforce describe terms."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    case_sensitive: bool = False
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    cascade_delete: bool = False
    restricted_delete: bool = False  # the parent cannot be deleted while this points at it
    custom: bool = False
    system: bool = False  # maintained by the server (Id, CreatedDate, SystemModstamp, ...)
    default_value: object = None
    # name of the child relationship on the parent (e.g. ``Contacts`` for Contact.AccountId);
    # when None, one is made from the relationship name
    relationship_plural: str | None = None
    track_history: bool = False  # field history tracking on (``<trackHistory>``)

    @property
    def required(self) -> bool:
        """Must be given on create (not nillable, createable, no default, not system)."""
        return (not self.nillable and self.createable and not self.system
                and self.default_value is None and self.type != "boolean")


@dataclass
class SObjectDef:
    """One sObject: its names, key prefix and fields (looked up case-insensitively)."""

    name: str
    key_prefix: str
    label: str = ""
    label_plural: str = ""
    custom: bool = False
    fields: dict[str, FieldDef] = field(default_factory=dict)  # keyed by API name
    child_relationships: list[tuple[str, str, str]] = field(default_factory=list)
    # (child object, child field, relationship name), filled in by Schema
    history_enabled: bool = False  # ``<enableHistory>``: changes of tracked fields are kept
    read_only: bool = False  # written by the server only (history objects)

    def __post_init__(self) -> None:
        self._lower = {k.lower(): v for k, v in self.fields.items()}

    def add(self, f: FieldDef) -> None:
        self.fields[f.name] = f
        self._lower[f.name.lower()] = f

    def field(self, name: str) -> FieldDef | None:
        return self._lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is ``name`` (e.g. ``Account``)."""
        low = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == low:
                return f
        return None


@dataclass
class Schema:
    """All sObjects of the org, looked up case-insensitively."""

    objects: dict[str, SObjectDef] = field(default_factory=dict)

    def add(self, obj: SObjectDef) -> None:
        self.objects[obj.name] = obj

    def get(self, name: str) -> SObjectDef | None:
        low = name.lower()
        for k, v in self.objects.items():
            if k.lower() == low:
                return v
        return None

    def by_prefix(self, prefix: str) -> SObjectDef | None:
        for v in self.objects.values():
            if v.key_prefix == prefix:
                return v
        return None

    def link_children(self) -> None:
        """Fill every object's child relationships from the reference fields that point at it."""
        for obj in self.objects.values():
            obj.child_relationships.clear()
        for obj in self.objects.values():
            for f in obj.fields.values():
                for target in f.reference_to:
                    parent = self.get(target)
                    if parent is not None and f.relationship_name:
                        rel = f.relationship_name
                        plural = f.relationship_plural or (
                            rel[:-3] + "s__r" if rel.endswith("__r") else rel + "s")
                        parent.child_relationships.append((obj.name, f.name, plural))
