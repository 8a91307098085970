"""Push: write the decided records to Salesforce and account for every one of them.

Records go out by external id (a retried or repeated write never duplicates; Opportunity
rollups, which have no external id, are updates by Id), plans before milestones (a new
milestone needs its plan's Id), milestones of one plan in one request (no row-lock fights),
milestones and Opportunity rollups side by side once the plans are written (both wait only
on the plans: as Bulk jobs they are processed at the same time), then deletions. Collections
carry up to ``SF_BULK_THRESHOLD`` records, Bulk API 2.0 more. Each record's result is filed as
soon as it is known, so a push stopped between two steps (a stop request, the API limit)
still commits what landed: written records update the shadow, refused ones become dead
letters with Salesforce's error, and a failure of one record never stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.salesforce.results import RecordResult
from connectors.salesforce.write import Write
from sync.cycle.decide import Decisions
from sync.cycle.diff import RecordChange
from sync.cycle.run import RunControl
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT, UPSERT_KEY


class Writer(Protocol):
    """What push needs of the Salesforce connector."""

    def upsert_auto(self, sobject: str, external_id_field: str,
                    records: Sequence[dict[str, Any]],
                    group_key: Any = None) -> list[RecordResult]: ...

    def update_auto(self, sobject: str, records: Sequence[dict[str, Any]],
                    group_key: Any = None) -> list[RecordResult]: ...

    def write_auto(self, writes: Sequence[Write]) -> list[list[RecordResult]]: ...

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
    deleted: list[RecordResult] = field(default_factory=list)

    def ids(self, sobject: str) -> dict[str, str]:
        """Salesforce Ids of the written records of ``sobject``, by key."""
        return {c.key: r.id for c, r in self.written if c.sobject == sobject and r.id}


def write(writer: Writer, decisions: Decisions, control: RunControl,
          into: PushResult) -> None:
    """Write ``decisions`` step by step, checking ``control`` before each write."""
    changes = decisions.changes
    control.check_write()
    upsert(writer, PLAN_OBJECT, [c.plan for c in changes if c.plan], into)
    plan_ids = into.ids(PLAN_OBJECT)
    failed_plans = {f.change.key for f in into.failed if f.change.sobject == PLAN_OBJECT}
    milestones = []
    for c in changes:
        if c.opportunity_id in failed_plans:
            continue
        for m in c.milestones:
            if m.created:
                parent = plan_ids.get(c.opportunity_id) or c.plan_id
                if parent is None:
                    continue
                m.fields["Plan__c"] = parent
            milestones.append(m)
    control.check_write()
    rollups = [c.rollup for c in changes if c.rollup and c.opportunity_id not in failed_plans]
    upsert_together(writer, [(MILESTONE_OBJECT, milestones), (OPPORTUNITY, rollups)], into)
    gone = [*decisions.delete_plans.values(), *decisions.delete_milestones.values()]
    if gone:
        control.check_write()
        into.deleted = writer.delete(gone)


def upsert(writer: Writer, sobject: str, changes: Sequence[RecordChange],
           into: PushResult) -> None:
    """Upsert ``changes`` (all of one object) and file each record's result."""
    upsert_together(writer, [(sobject, changes)], into)


def upsert_together(writer: Writer, steps: Sequence[tuple[str, Sequence[RecordChange]]],
                    into: PushResult) -> None:
    """Upsert the changes of several objects that do not wait on each other, in one go, and
    file each record's result."""
    steps = [(sobject, changes) for sobject, changes in steps if changes]
    if not steps:
        return
    writes = []
    for sobject, changes in steps:
        key_field = UPSERT_KEY[sobject]  # "Id": an update (Collections upsert refuses Id)
        records = []
        for change in changes:
            body = change.payload()
            body[key_field] = change.key
            records.append(body)
        group = "Plan__c" if sobject == MILESTONE_OBJECT else None
        writes.append(Write(sobject, key_field, records, group))
    for (_, changes), results in zip(steps, writer.write_auto(writes), strict=True):
        for change, result in zip(changes, results, strict=True):
            # An upsert by external id recreates a missing record, so ENTITY_IS_DELETED here
            # names a deleted record the payload points at (a lookup), not this one.
            if result.success:
                into.written.append((change, result))
            else:
                into.failed.append(Failure(change, result))
