"""Salesforce Files in the local org: ContentDocument, ContentVersion, ContentDocumentLink.

A File is a ContentDocument; its content lives in ContentVersions (one per upload, the
newest ``IsLatest``); ContentDocumentLinks share it with records and users. Clients never
insert a ContentDocument: inserting a ContentVersion without ``ContentDocumentId`` creates
one, and one with ``ContentDocumentId`` adds a version to it (``content.py`` does both). The
field lists follow Salesforce's object reference; ``VersionData`` is a ``base64`` field,
sent base64 in JSON and answered as the URL of its bytes.
"""

from __future__ import annotations

from dataclasses import replace

from connectors.emulator.schema import FieldDef, Schema, SObjectDef
from connectors.emulator.standard_objects import picklist, readonly, ref, sobject, text, typed

#: Objects a File or a Task can never point at (the polymorphic lookups list the others).
_NOT_LINKABLE = frozenset({"ContentDocument", "ContentVersion", "ContentDocumentLink",
                           "OpportunityContactRole", "OpportunityStage", "Organization",
                           "Profile", "Task"})


def content_document() -> SObjectDef:
    return sobject("ContentDocument", "069", "Content Document", "Content Documents", [
        replace(text("Title", 255, "Title", nillable=False), createable=False),
        readonly(ref("LatestPublishedVersionId", "ContentVersion", "LatestPublishedVersion",
                     "Latest Published Version ID", relationship_plural="Documents")),
        readonly(ref("OwnerId", "User", "Owner", "Owner ID")),
        readonly(text("FileType", 20, "File Type")),
        readonly(text("FileExtension", 40, "File Extension")),
        readonly(typed("ContentSize", "int", "Size", precision=18)),
        typed("Description", "textarea", "Description", length=1000),
    ])


def content_version() -> SObjectDef:
    return sobject("ContentVersion", "068", "Content Version", "Content Versions", [
        text("Title", 255, "Title"),
        replace(text("PathOnClient", 500, "Path On Client"), updateable=False),
        replace(typed("VersionData", "base64", "Version Data"), updateable=False),
        replace(ref("ContentDocumentId", "ContentDocument", "ContentDocument",
                    "ContentDocument ID", relationship_plural="ContentVersions",
                    cascade_delete=True), updateable=False),
        replace(ref("FirstPublishLocationId", "Opportunity", "FirstPublishLocation",
                    "First Publish Location ID"), updateable=False),
        ref("OwnerId", "User", "Owner", "Owner ID", nillable=False, default_value="$user"),
        text("ReasonForChange", 1000, "Reason For Change"),
        typed("Description", "textarea", "Description", length=1000),
        picklist("ContentLocation", ("S", "E", "L"), "Content Location", default_value="S",
                 restricted_picklist=True),
        readonly(typed("IsLatest", "boolean", "Is Latest")),
        readonly(text("VersionNumber", 20, "Version Number")),
        readonly(typed("ContentSize", "int", "Size", precision=18)),
        readonly(text("FileType", 20, "File Type")),
        readonly(text("FileExtension", 40, "File Extension")),
        readonly(text("Checksum", 50, "Checksum")),
    ])


def content_document_link() -> SObjectDef:
    return sobject("ContentDocumentLink", "06A", "Content Document Link",
                   "Content Document Links", [
                       replace(ref("ContentDocumentId", "ContentDocument", "ContentDocument",
                                   "ContentDocument ID", nillable=False, cascade_delete=True,
                                   relationship_plural="ContentDocumentLinks"),
                               updateable=False),
                       replace(ref("LinkedEntityId", "Opportunity", "LinkedEntity",
                                   "Linked Entity ID", nillable=False, cascade_delete=True,
                                   relationship_plural="ContentDocumentLinks"),
                               updateable=False),
                       picklist("ShareType", ("V", "C", "I"), "Share Type",
                                restricted_picklist=True, default_value="V"),
                       picklist("Visibility", ("AllUsers", "InternalUsers", "SharedUsers"),
                                "Visibility", restricted_picklist=True,
                                default_value="AllUsers"),
                   ])


def file_objects() -> tuple[SObjectDef, ...]:
    return content_document(), content_version(), content_document_link()


def _anywhere(schema: Schema, f: FieldDef, only: tuple[str, ...] | None) -> FieldDef:
    names = tuple(n for n in schema.objects if n not in _NOT_LINKABLE
                  and (only is None or n in only or schema.objects[n].custom))
    return replace(f, reference_to=names)


def link_anywhere(schema: Schema) -> None:
    """Point the polymorphic lookups at every object that may hold Files or Tasks.

    Called once the custom objects are loaded (a File can be linked to a plan record);
    Task's ``WhatId`` takes Accounts, Opportunities and custom objects, as in Salesforce."""
    polymorphic = {("ContentVersion", "FirstPublishLocationId"): None,
                   ("ContentDocumentLink", "LinkedEntityId"): None,
                   ("Task", "WhatId"): ("Account", "Opportunity")}
    for (obj_name, field_name), only in polymorphic.items():
        obj = schema.get(obj_name)
        f = obj.field(field_name) if obj is not None else None
        if obj is not None and f is not None:
            obj.add(_anywhere(schema, f, only))
