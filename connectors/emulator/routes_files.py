"""``GET /sobjects/{object}/{id}/{blob field}``: the bytes of a blob (a File's version).

Salesforce answers a blob field in records and queries as this URL, and the URL with the
raw bytes (``application/octetstream``). The path has the shape of a read by external id,
so ``routes_rest.by_external_id`` hands it here when its last part names a base64 field.
"""

from __future__ import annotations

from starlette.responses import Response

from connectors.emulator import ids
from connectors.emulator.errors import ApiError, not_found
from connectors.emulator.gate import Call
from connectors.emulator.schema import FieldDef, SObjectDef


def blob_field(obj: SObjectDef, name: str) -> FieldDef | None:
    f = obj.field(name)
    return f if f is not None and f.type == "base64" else None


async def blob(call: Call, obj: SObjectDef, raw_id: str, f: FieldDef) -> Response:
    norm = ids.normalize(raw_id)
    if norm is None or norm[:3] != obj.key_prefix:
        raise not_found()
    row = call.org.store.find(obj, norm)
    if row is None or not call.org.access.can_see(call.user_id, obj, row):
        raise not_found()
    if row["IsDeleted"]:
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    data = row.get(f.name)
    if not isinstance(data, bytes):
        raise not_found()
    return Response(data, media_type="application/octetstream")
