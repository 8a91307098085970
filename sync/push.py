"""Push: write the changed records to Salesforce and account for every one of them.

Records go out by external id (a retried or repeated write never duplicates; Opportunity
rollups, which have no external id, are updates by Id), plans before
milestones (a milestone needs its plan's Id), milestones of one plan in one request (no row
lock fights), Opportunity rollups last. Collections carry up to ``SF_BULK_THRESHOLD``
records, Bulk API 2.0 more. Each record's result is kept: written ones update the shadow,
refused ones become dead letters with Salesforce's error, and a failure of one record never
stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.salesforce.results import RecordResult

from .diff import RecordChange
from .pull import MILESTONE, OPPORTUNITY, PLAN

EXTERNAL_ID = {PLAN: "External_Id__c", MILESTONE: "External_Id__c", OPPORTUNITY: "Id"}


class Writer(Protocol):
    """What push needs of the Salesforce connector."""

    def upsert_auto(self, sobject: str, external_id_field: str,
                    records: Sequence[dict[str, Any]],
                    group_key: Any = None) -> list[RecordResult]: ...

    def update_auto(self, sobject: str, records: Sequence[dict[str, Any]],
                    group_key: Any = None) -> list[RecordResult]: ...

    def delete(self, ids: Sequence[str]) -> list[RecordResult]: ...


@dataclass(frozen=True)
class Failure:
    """A record Salesforce refused, for the dead-letter table."""

    change: RecordChange
    result: RecordResult

    @property
    def code(self) -> str:
        return self.result.errors[0].code if self.result.errors else "UNKNOWN_ERROR"

    @property
    def message(self) -> str:
        return self.result.message or "no error reported"


@dataclass
class PushResult:
    """What landed and what did not, per record."""

    written: list[tuple[RecordChange, RecordResult]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    def ids(self, sobject: str) -> dict[str, str]:
        """Salesforce Ids of the written records of ``sobject``, by key."""
        return {c.key: r.id for c, r in self.written if c.sobject == sobject and r.id}


def upsert(writer: Writer, sobject: str, changes: Sequence[RecordChange],
           into: PushResult) -> None:
    """Upsert ``changes`` (all of one object) and file each record's result."""
    if not changes:
        return
    field_name = EXTERNAL_ID[sobject]
    records = []
    for change in changes:
        body = change.payload()
        body[field_name] = change.key
        records.append(body)
    group = "Plan__c" if sobject == MILESTONE else None
    if field_name == "Id":  # known by Id only: Collections upsert refuses Id as its key
        results = writer.update_auto(sobject, records, group)
    else:
        results = writer.upsert_auto(sobject, field_name, records, group)
    for change, result in zip(changes, results, strict=True):
        # An upsert by external id recreates a missing record, so ENTITY_IS_DELETED here
        # names a deleted record the payload points at (a lookup), not this one: a failure.
        if result.success:
            into.written.append((change, result))
        else:
            into.failed.append(Failure(change, result))


def delete(writer: Writer, ids: Sequence[str]) -> list[RecordResult]:
    """Delete records by Id (already-deleted ones count as done)."""
    return writer.delete(list(ids)) if ids else []
