"""Record access in the local org: organisation-wide defaults, ownership, and the write guard.

On top of object and field permissions (``permissions.py``), Salesforce decides per record:
under a ``Private`` default only the owner (or a user with View All / Modify All on the
object, or an administrator) sees an Opportunity; under ``Read`` everyone sees it but only
the owner edits it; under ``ReadWrite`` everyone does both; ``ControlledByParent`` records
follow their master record. Defaults: Opportunity ``Private``, Account and Contact
``ReadWrite``, custom objects as their metadata's ``sharingModel`` says. A test changes one
with ``org.access.set_sharing("Opportunity", "ReadWrite")``.

``OrgAccess`` is what the org consults: the schema a user sees, the SQL that keeps invisible
rows out of a query, and ``before_create``/``before_update``/``before_delete``, which the
store calls for every record however it arrives (REST, Collections, Composite, Bulk).
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.emulator.errors import RecordError, RecordFailed
from connectors.emulator.permissions import (
    INTEGRATION_SET,
    NS,
    Grants,
    PermissionSet,
    load_permission_sets,
    profile_grants,
    visible_schema,
)
from connectors.emulator.schema import Schema, SObjectDef
from connectors.emulator.sqltext import q

if TYPE_CHECKING:
    from connectors.emulator.store import OrgStore

SHARING_MODELS = ("Private", "Read", "ReadWrite", "ControlledByParent")
DEFAULT_SHARING = {"Opportunity": "Private", "Account": "ReadWrite", "Contact": "ReadWrite",
                   "OpportunityContactRole": "ControlledByParent",
                   "OpportunityTeamMember": "ControlledByParent"}
_ID = re.compile(r"^[0-9A-Za-z]{15,18}$")
NO_ACCESS = "insufficient access rights on object id"


def object_sharing(metadata_dir: Path | None) -> dict[str, str]:
    """``sharingModel`` of every object the sfdx project declares."""
    out: dict[str, str] = {}
    if metadata_dir is None:
        return out
    for path in metadata_dir.glob("**/objects/*/*.object-meta.xml"):
        root = ET.parse(path).getroot()  # noqa: S314 - the product's own metadata
        model = root.findtext(f"{NS}sharingModel")
        if model:
            out[path.name.split(".")[0]] = model.strip()
    return out


class OrgAccess:
    """Grants, sharing and the per-record checks of one org (thread-safe)."""

    def __init__(self, schema: Schema, store: OrgStore, metadata_dir: Path | None) -> None:
        self.schema = schema
        self.store = store
        self.permission_sets: dict[str, PermissionSet] = load_permission_sets(metadata_dir)
        self.sharing = {**DEFAULT_SHARING, **object_sharing(metadata_dir)}
        self.assigned: dict[str, list[str]] = {}
        self.admins: set[str] = set()
        self._cache: dict[str, tuple[Grants, Schema]] = {}
        self._denials: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]] = {}
        self._lock = threading.Lock()

    # ---- configuration ------------------------------------------------------------------

    def assign(self, user_id: str, *names: str) -> None:
        """Assign permission sets to a user (unknown names are an error)."""
        unknown = [n for n in names if n not in self.permission_sets]
        if unknown:
            raise ValueError(f"no such permission set: {', '.join(unknown)}")
        with self._lock:
            self.assigned.setdefault(user_id, []).extend(names)
            self._cache.clear()
            self._denials.clear()

    def assign_integration(self, user_id: str) -> None:
        if INTEGRATION_SET in self.permission_sets:
            self.assign(user_id, INTEGRATION_SET)

    def make_admin(self, user_id: str) -> None:
        """Give a user View All Data and Modify All Data (tests of the API's mechanics)."""
        with self._lock:
            self.admins.add(user_id)
            self._cache.clear()
            self._denials.clear()

    def set_sharing(self, sobject: str, model: str) -> None:
        """Change an object's organisation-wide default."""
        if model not in SHARING_MODELS:
            raise ValueError(f"unknown sharing model {model!r}")
        obj = self.schema.get(sobject)
        if obj is None:
            raise ValueError(f"unknown object {sobject!r}")
        self.sharing[obj.name] = model

    # ---- what a user has ----------------------------------------------------------------

    def _entry(self, user_id: str) -> tuple[Grants, Schema]:
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        grants = self._grants(user_id)
        entry = (grants, visible_schema(self.schema, grants))
        with self._lock:
            self._cache[user_id] = entry
        return entry

    def _grants(self, user_id: str) -> Grants:
        if user_id in self.admins:
            return Grants(all_data=True)
        profile = self._profile_name(user_id)
        assigned = tuple(self.assigned.get(user_id, []))
        grants = profile_grants(profile, self.schema, self.permission_sets, assigned)
        for name in assigned:
            grants.add(self.permission_sets[name])
        return grants

    def _profile_name(self, user_id: str) -> str:
        with self.store.lock:
            row = self.store.conn.execute(
                'SELECT p."Name" FROM "User" u JOIN "Profile" p ON p."Id" = u."ProfileId" '
                'WHERE u."Id" = ?', (user_id,)).fetchone()
        return str(row[0]) if row else ""

    def grants(self, user_id: str) -> Grants:
        return self._entry(user_id)[0]

    def schema_for(self, user_id: str) -> Schema:
        """The objects and fields ``user_id`` can read."""
        return self._entry(user_id)[1]

    # ---- record visibility --------------------------------------------------------------

    def _model(self, obj: SObjectDef) -> str:
        return self.sharing.get(obj.name, "ReadWrite")

    def _master(self, obj: SObjectDef) -> tuple[str, SObjectDef] | None:
        for f in obj.fields.values():
            if f.type == "reference" and not f.nillable and not f.system and f.reference_to:
                parent = self.schema.get(f.reference_to[0])
                if parent is not None:
                    return f.name, parent
        return None

    def row_filter(self, user_id: str, obj: SObjectDef, alias: str) -> str | None:
        """SQL keeping only the rows of ``obj`` (as ``alias``) ``user_id`` may see."""
        grants = self.grants(user_id)
        grant = grants.object(obj)
        if grants.all_data or grant.view_all or grant.modify_all or not _ID.match(user_id):
            return None
        model = self._model(obj)
        if model == "Private":
            return f"{alias}.\"OwnerId\" = '{user_id}'"
        if model == "ControlledByParent":
            master = self._master(obj)
            if master is None:
                return None
            column, parent = master
            inner = self.row_filter(user_id, parent, "p_" + alias)
            if inner is None:
                return None
            return (f"{alias}.{q(column)} IN (SELECT \"Id\" FROM {q(parent.name)} AS p_{alias} "
                    f"WHERE {inner})")
        return None

    def row_filter_of(self, user_id: str) -> Callable[[SObjectDef, str], str | None]:
        """``row_filter`` bound to one user, as the SOQL compiler takes it."""
        return lambda obj, alias: self.row_filter(user_id, obj, alias)

    def _may(self, user_id: str, obj: SObjectDef, row: dict[str, object], edit: bool) -> bool:
        grants = self.grants(user_id)
        grant = grants.object(obj)
        if grants.all_data or grant.modify_all or (grant.view_all and not edit):
            return True
        model = self._model(obj)
        if model == "ControlledByParent":
            master = self._master(obj)
            if master is None:
                return True
            parent_row = self.store.find(master[1], str(row.get(master[0]) or ""))
            return parent_row is None or self._may(user_id, master[1], parent_row, edit)
        if model == "ReadWrite" or (model == "Read" and not edit):
            return True
        return row.get("OwnerId") == user_id

    def can_see(self, user_id: str, obj: SObjectDef, row: dict[str, object]) -> bool:
        return self._may(user_id, obj, row, edit=False)

    # ---- the write guard (called by the store for every record) -------------------------

    def _denied(self, user_id: str, obj: SObjectDef) -> tuple[dict[str, str], dict[str, str]]:
        """(unreadable, read-only) fields of ``obj`` for ``user_id``, by lower-cased name
        (relationship names too), computed once: the write path asks for every record."""
        key = (user_id, obj.name)
        found = self._denials.get(key)
        if found is None:
            grants = self.grants(user_id)
            hidden: dict[str, str] = {}
            readonly: dict[str, str] = {}
            for f in obj.fields.values():
                readable, editable = grants.field_access(obj, f)
                names = [f.name] + ([f.relationship_name] if f.relationship_name else [])
                for name in names:
                    if not readable:
                        hidden[name.lower()] = f.name
                    elif not editable:
                        readonly[name.lower()] = f.name
            found = self._denials[key] = (hidden, readonly)
        return found

    def _fields(self, user_id: str, obj: SObjectDef, body: dict[str, object]) -> None:
        denied_read, denied_edit = self._denied(user_id, obj)
        if not denied_read and not denied_edit:
            return
        hidden = [k for k in body if k.lower() in denied_read]
        readonly = [denied_edit[k.lower()] for k in body if k.lower() in denied_edit]
        if hidden:
            raise RecordFailed(*[RecordError(
                "INVALID_FIELD", f"No such column '{k}' on sobject of type {obj.name}", [k])
                for k in hidden])
        if readonly:
            raise RecordFailed(RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(readonly)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.", readonly))

    def _object(self, user_id: str, obj: SObjectDef, action: str) -> None:
        grant = self.grants(user_id).object(obj)
        if not grant.read:
            raise RecordFailed(RecordError("INVALID_TYPE",
                                           f"sObject type '{obj.name}' is not supported."))
        if not getattr(grant, action):
            raise RecordFailed(RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                f"insufficient access rights on object id: you cannot {action} {obj.name}"))

    def before_create(self, obj: SObjectDef, body: dict[str, object], user_id: str) -> None:
        self._object(user_id, obj, "create")
        self._fields(user_id, obj, body)

    def before_update(self, obj: SObjectDef, body: dict[str, object],
                      current: dict[str, object], user_id: str) -> None:
        self._object(user_id, obj, "edit")
        if not self._may(user_id, obj, current, edit=True):
            raise RecordFailed(RecordError("INSUFFICIENT_ACCESS_OR_READONLY", NO_ACCESS))
        self._fields(user_id, obj, body)

    def before_delete(self, obj: SObjectDef, row: dict[str, object], user_id: str) -> None:
        self._object(user_id, obj, "delete")
        if not self._may(user_id, obj, row, edit=True):
            raise RecordFailed(RecordError("INSUFFICIENT_ACCESS_OR_READONLY", NO_ACCESS))

    def before_save(self, obj: SObjectDef, record: dict[str, object],
                    current: dict[str, object] | None, user_id: str) -> None:
        """Access is decided on the request; the saved record is automation's concern."""
