"""Rebuild the local store's cache of an org from Salesforce, for a move or after a loss.

Salesforce is the master; the store only caches what mapsync can read back: which plan
belongs to which Opportunity (the plan index), what the plan records hold in the fields
mapsync writes (the shadow), and which plans reps deleted (tombstones, from the recycle bin).
Reps' pins need no rebuilding at all: they are read from Salesforce's field history every
time a plan is planned. Run records, dead letters and leases are the store's own and start
afresh. The read positions are left as they are, so the next cycle still reads every change.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from config.batching import batched
from connectors.salesforce.soql import quote
from sync.cycle.org import Org, Salesforce
from sync.cycle.shadowing import shadow_of
from sync.cycle.sobjects import (
    MILESTONE_FIELDS,
    MILESTONE_HISTORY,
    MILESTONE_OBJECT,
    OPPORTUNITY,
    PLAN_FIELDS,
    PLAN_OBJECT,
)
from sync.planner.model import (
    OPPORTUNITY_ROLLUP_FIELDS,
    REP_PINNABLE_MILESTONE_FIELDS,
    SERVICE_OWNED_MILESTONE_FIELDS,
    SERVICE_OWNED_PLAN_FIELDS,
)
from sync.store.records import PlanIndexEntry, ShadowWrite

WRITE_BATCH = 2_000  # shadow rows per local transaction


@dataclass
class RebuildReport:
    """What a rebuild found in Salesforce and wrote to the store."""

    plans: int = 0
    milestones: int = 0
    rollups: int = 0
    tombstones: int = 0
    rep_pins: int = 0  # (milestone, field) pairs Salesforce's history says a rep set
    api_calls: int = 0
    seconds: float = 0.0
    details: dict[str, int] = field(default_factory=dict)


def rebuild(org: Org) -> RebuildReport:
    """Rebuild ``org``'s plan index, shadow and tombstones from what Salesforce holds."""
    started = time.perf_counter()
    calls = org.salesforce.usage.calls
    sf, org_id, me = org.salesforce, org.id, org.salesforce.user_id
    report = RebuildReport()
    plan_soql = f"SELECT {', '.join(PLAN_FIELDS)} FROM {PLAN_OBJECT}"
    # Bulk API 2.0 above the threshold (a handful of calls per object, whatever its size)
    use_bulk = sf.count(f"SELECT COUNT() FROM {PLAN_OBJECT}") > sf.bulk_threshold
    report.details["bulk"] = int(use_bulk)
    live: list[dict[str, Any]] = []
    for row in _rows(sf, plan_soql, include_deleted=True, bulk=use_bulk):
        if not row.get("IsDeleted"):
            live.append(row)
        elif row.get("LastModifiedById") != me and row.get("External_Id__c"):
            with org.store.transaction() as tx:
                tx.add_tombstone(org_id, str(row["External_Id__c"]),
                                 deleted_by=row.get("LastModifiedById"))
            report.tombstones += 1
    opp_ids = [str(r["External_Id__c"]) for r in live if r.get("External_Id__c")]
    with org.store.transaction() as tx:
        tx.put_plan_indexes(org_id, [PlanIndexEntry(str(r["External_Id__c"]), str(r["Id"]))
                                     for r in live if r.get("External_Id__c")])
        tx.put_shadows(org_id, PLAN_OBJECT,
                       _shadow(PLAN_OBJECT, live, SERVICE_OWNED_PLAN_FIELDS | {"Name"}))
    report.plans = len(live)
    milestone_fields = SERVICE_OWNED_MILESTONE_FIELDS | REP_PINNABLE_MILESTONE_FIELDS
    milestones = _rows(sf, f"SELECT {', '.join(MILESTONE_FIELDS)} FROM {MILESTONE_OBJECT}",
                       include_deleted=False, bulk=use_bulk)
    for chunk in batched(milestones, WRITE_BATCH):
        with org.store.transaction() as tx:
            report.milestones += tx.put_shadows(org_id, MILESTONE_OBJECT,
                                                _shadow(MILESTONE_OBJECT, chunk,
                                                        milestone_fields))
    rollup_fields = sorted(OPPORTUNITY_ROLLUP_FIELDS)
    for ids in batched(opp_ids, 300):
        rows = list(sf.query(f"SELECT Id, {', '.join(rollup_fields)} FROM {OPPORTUNITY} "
                             f"WHERE Id IN {quote(ids)}"))
        with org.store.transaction() as tx:
            report.rollups += tx.put_shadows(
                org_id, OPPORTUNITY, [ShadowWrite(str(r["Id"]), str(r["Id"]), shadow_of(
                    OPPORTUNITY, {f: r.get(f) for f in rollup_fields})) for r in rows])
    who = f" AND CreatedById != {quote(me)}" if me else ""
    pins = {(str(r["ParentId"]), str(r["Field"])) for r in sf.query_all(
        f"SELECT ParentId, Field FROM {MILESTONE_HISTORY} WHERE Field IN "
        f"{quote(sorted(REP_PINNABLE_MILESTONE_FIELDS))}{who}") if not r.get("IsDeleted")}
    report.rep_pins = len(pins)
    report.api_calls = sf.usage.calls - calls
    report.seconds = time.perf_counter() - started
    return report


def _rows(sf: Salesforce, soql: str, *, include_deleted: bool,
          bulk: bool) -> Iterator[dict[str, Any]]:
    """Rows of ``soql`` by REST paging, or by a Bulk 2.0 query job (cells as REST gives them:
    empty as null, booleans as booleans)."""
    if not bulk:
        yield from (sf.query_all(soql) if include_deleted else sf.query(soql))
        return
    for row in sf.bulk_query(soql, include_deleted=include_deleted):
        yield {k: (None if v == "" else (v == "true") if k == "IsDeleted" else v)
               for k, v in row.items()}


def _shadow(sobject: str, rows: Iterable[dict[str, Any]],
            fields: Iterable[str]) -> Iterator[ShadowWrite]:
    names = sorted(fields)
    for row in rows:
        key = row.get("External_Id__c")
        if key:
            yield ShadowWrite(str(key), str(row["Id"]),
                              shadow_of(sobject, {f: row.get(f) for f in names}))
