"""How Files behave in the local org: documents made by versions, versions numbered, links.

Salesforce's rules, applied to every write however it arrives:

- a ContentDocument is never inserted by a client (``INVALID_TYPE_FOR_OPERATION``);
- inserting a ContentVersion without ``ContentDocumentId`` creates the document (title, owner,
  latest version) and version ``1``; with ``FirstPublishLocationId`` it also links the
  document to that record, and always to its owner;
- inserting one with ``ContentDocumentId`` adds the next version: the new one ``IsLatest``,
  the others not, the document pointing at it; ``FirstPublishLocationId`` is refused there;
- ``VersionData`` and ``PathOnClient`` are required, and a base64 body decodes to at most
  37.5 MB (``values.py``);
- a link or a first publish location names a record the user can see
  (``INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY``), and a document is linked to a record
  once (``DUPLICATE_VALUE``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from connectors.emulator.errors import RecordError, RecordFailed
from connectors.emulator.schema import SObjectDef
from connectors.emulator.sqltext import q

if TYPE_CHECKING:
    from connectors.emulator.sharing import OrgAccess
    from connectors.emulator.store import OrgStore

FILE_TYPES = {"pdf": "PDF", "html": "HTML", "htm": "HTML", "txt": "TEXT", "png": "PNG",
              "jpg": "JPG", "jpeg": "JPG", "csv": "CSV", "docx": "WORD_X", "xlsx": "EXCEL_X"}


def _failed(code: str, message: str, fields: list[str] | None = None) -> RecordFailed:
    return RecordFailed(RecordError(code, message, fields or []))


class ContentFiles:
    """The write guard for Files plus the hook that fills in a version as it is inserted."""

    def __init__(self, store: OrgStore, access: OrgAccess) -> None:
        self.store = store
        self.access = access

    # ---- WriteGuard ---------------------------------------------------------------------

    def before_create(self, obj: SObjectDef, body: dict[str, object], user_id: str) -> None:
        if obj.name == "ContentDocument":
            raise _failed("INVALID_TYPE_FOR_OPERATION",
                          "entity type ContentDocument does not support insert")

    def before_update(self, obj: SObjectDef, body: dict[str, object],
                      current: dict[str, object], user_id: str) -> None:
        return None

    def before_delete(self, obj: SObjectDef, row: dict[str, object], user_id: str) -> None:
        return None

    def before_save(self, obj: SObjectDef, record: dict[str, object],
                    current: dict[str, object] | None, user_id: str) -> None:
        if current is not None:
            return
        if obj.name == "ContentVersion":
            self._check_version(record, user_id)
        elif obj.name == "ContentDocumentLink":
            self._check_visible(record.get("LinkedEntityId"), user_id, "LinkedEntityId")
            if self._linked(record["ContentDocumentId"], record["LinkedEntityId"]):
                raise _failed("DUPLICATE_VALUE",
                              f"Document with ID: {record['ContentDocumentId']} is already "
                              f"linked with the entity with ID: {record['LinkedEntityId']}",
                              ["LinkedEntityId"])

    def _check_version(self, record: dict[str, object], user_id: str) -> None:
        missing = [n for n in ("VersionData", "PathOnClient") if record.get(n) is None]
        if missing:
            raise _failed("REQUIRED_FIELD_MISSING",
                          f"Required fields are missing: [{', '.join(missing)}]", missing)
        if record.get("ContentDocumentId") and record.get("FirstPublishLocationId"):
            raise _failed("FIELD_INTEGRITY_EXCEPTION",
                          "FirstPublishLocationId can only be set on the first version of a "
                          "document", ["FirstPublishLocationId"])
        self._check_visible(record.get("FirstPublishLocationId"), user_id,
                            "FirstPublishLocationId")

    def _check_visible(self, record_id: object, user_id: str, field: str) -> None:
        if record_id is None:
            return
        target = self.store.object_of(str(record_id))
        row = self.store.find(target, str(record_id)) if target is not None else None
        if target is None or row is None or not self.access.can_see(user_id, target, row):
            raise _failed("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                          f"insufficient access rights on cross-reference id: {record_id}",
                          [field])

    def _linked(self, document_id: object, entity_id: object) -> bool:
        return self.store.conn.execute(
            "SELECT 1 FROM ContentDocumentLink WHERE ContentDocumentId = ? AND "
            "LinkedEntityId = ? AND IsDeleted = 0", (document_id, entity_id)).fetchone() \
            is not None

    # ---- the insert hook (store.before_insert) ------------------------------------------

    def before_insert(self, obj: SObjectDef, values: dict[str, object], user_id: str) -> None:
        """Number a new version, and make or update its document (checks already passed)."""
        if obj.name != "ContentVersion":
            return
        data = values["VersionData"]
        assert isinstance(data, bytes)
        path = str(values["PathOnClient"])
        extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        values.setdefault("Title", None)
        if not values["Title"]:
            values["Title"] = path.rsplit("/", 1)[-1].rsplit(".", 1)[0] or path
        values.update(ContentSize=len(data), Checksum=hashlib.md5(data).hexdigest(),  # noqa: S324 - Salesforce's checksum is MD5
                      FileExtension=extension or None,
                      FileType=FILE_TYPES.get(extension, "UNKNOWN"), IsLatest=1)
        document_fields = {"Title": values["Title"], "LatestPublishedVersionId": values["Id"],
                           "ContentSize": values["ContentSize"],
                           "FileType": values["FileType"],
                           "FileExtension": values["FileExtension"]}
        stamp = str(values["SystemModstamp"])
        document_id = values.get("ContentDocumentId")
        if document_id is None:
            document = self.store.schema.objects["ContentDocument"]
            owner = str(values.get("OwnerId") or user_id)
            document_id = self.store.insert_rows(
                document, [{**document_fields, "OwnerId": owner}], user_id, stamp)[0]
            values.update(ContentDocumentId=document_id, VersionNumber="1")
            links = self.store.schema.objects["ContentDocumentLink"]
            rows: list[dict[str, object]] = [{
                "ContentDocumentId": document_id, "LinkedEntityId": owner, "ShareType": "I",
                "Visibility": "AllUsers"}]
            where = values.get("FirstPublishLocationId")
            if where is not None and where != owner:
                rows.append({"ContentDocumentId": document_id, "LinkedEntityId": where,
                             "ShareType": "V", "Visibility": "AllUsers"})
            self.store.insert_rows(links, rows, user_id, stamp)
            return
        count = self.store.conn.execute(
            "SELECT COUNT(*) FROM ContentVersion WHERE ContentDocumentId = ?",
            (document_id,)).fetchone()[0]
        values["VersionNumber"] = str(int(count) + 1)
        self.store.conn.execute(
            "UPDATE ContentVersion SET IsLatest = 0, SystemModstamp = ? "
            "WHERE ContentDocumentId = ? AND IsLatest = 1", (stamp, document_id))
        sets = ", ".join(f"{q(k)} = ?" for k in document_fields)
        self.store.conn.execute(
            f"UPDATE ContentDocument SET {sets}, LastModifiedDate = ?, LastModifiedById = ?, "
            f"SystemModstamp = ? WHERE Id = ?",
            [*document_fields.values(), stamp, user_id, stamp, document_id])
