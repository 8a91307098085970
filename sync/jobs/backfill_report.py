"""What a backfill reports (over all its resumed parts) and what it estimates before it runs.

The report's counts are what the checkpoint stores, so a resumed backfill adds to them; the
estimate is an upper bound of the API calls a real run costs, shown to an admin who must
confirm a backfill before it writes, with the Bulk batches it takes of the org's day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mappings.model import StageMapping
from sync.cycle import RunReport
from sync.planner.model import DesiredPlan
from sync.store.records import BackfillStatus, RunKind

BULK_JOB_CALLS = 6  # create, upload, close, one poll, successful and failed results
BATCH_RECORDS = 10_000  # Salesforce cuts a Bulk API 2.0 ingest job into batches of these
DAILY_BULK_BATCHES = 15_000  # an org's Bulk batches a day, Bulk API 1.0 and 2.0 together
# The checkpoint's counts: its keys and the report's counters they hold.
_STORED = {"created": "plans_created", "updated": "plans_updated",
           "unchanged": "plans_unchanged", "failed": "dead_letters",
           "milestones": "milestones_written", "rollups": "rollups_written"}


@dataclass
class BackfillReport:
    """Where a backfill stands (over all its resumed parts) and, in ``totals``, the added-up
    report of its runs; dry, what a real run would do."""

    backfill_id: str
    status: str = BackfillStatus.RUNNING.value
    dry_run: bool = False
    selected: int = 0
    done: int = 0
    estimated_write_calls: int = 0
    # dry: the day's Bulk batches a real run would take, and the records it would write by
    # object (plans, milestones, tasks, rollups) that count them
    estimated_bulk_batches: int = 0
    would_write: dict[str, int] = field(default_factory=dict)
    sample: list[DesiredPlan] = field(default_factory=list)
    totals: RunReport = field(default_factory=lambda: RunReport(kind=RunKind.BACKFILL))
    # Opportunity names of the sampled plans (a dry run's table shows names, not Ids)
    names: dict[str, str] = field(default_factory=dict)
    # a spooled backfill: its spool's name and checkpointed length, its jobs' ids by
    # object once uploaded, and how many spooled batches the store has committed
    spool: dict[str, Any] | None = None

    def stored_counts(self) -> dict[str, Any]:
        spool = {"spool": self.spool} if self.spool is not None else {}
        return {"selected": self.selected, "done": self.done,
                **{key: getattr(self.totals, name) for key, name in _STORED.items()},
                "skipped": self.totals.skipped, "api_calls": self.totals.api_calls, **spool}

    def restore(self, stored: Mapping[str, Any]) -> None:
        self.selected = int(stored.get("selected", 0))
        self.done = int(stored.get("done", 0))
        for key, name in _STORED.items():
            setattr(self.totals, name, int(stored.get(key, 0)))
        self.totals.skipped = dict(stored.get("skipped", {}))
        self.totals.api_calls = int(stored.get("api_calls", 0))
        self.spool = dict(stored["spool"]) if stored.get("spool") else None

    def as_dict(self) -> dict[str, Any]:
        return {"backfill_id": self.backfill_id, "status": self.status,
                "dry_run": self.dry_run, **self.stored_counts(),
                "estimated_write_calls": self.estimated_write_calls,
                "estimated_bulk_batches": self.estimated_bulk_batches,
                "seconds": round(self.totals.seconds, 2), "error": self.totals.error}


def write_calls(records: int, threshold: int) -> int:
    """API calls one push of ``records`` records of one object costs."""
    if records <= 0:
        return 0
    if records > threshold:
        return BULK_JOB_CALLS
    return math.ceil(records / 200)


def bulk_batches(records: int) -> int:
    """The Bulk batches one ingest job of ``records`` records takes of the org's day."""
    return -(-records // BATCH_RECORDS) if records > 0 else 0


def estimate_batches(selected: int, batch_size: int, milestones_per_plan: int,
                     threshold: int, tasks_per_plan: int = 0) -> int:
    """About the most Bulk batches a real backfill of ``selected`` Opportunities takes of the
    org's 15,000 a day, as if every Opportunity got a new plan: the larger of a run that
    writes each object in one job for the whole backfill (past the Bulk threshold, on an org
    without plans) and one that writes each batch's objects by Bulk when they are more
    records than the threshold. A job cut at the upload limit may take one more each cut."""
    per_plan = (1, milestones_per_plan, tasks_per_plan, 1)  # plans, milestones, Tasks, rollups
    whole = sum(bulk_batches(selected * k) for k in per_plan) if selected > threshold else 0
    full, rest = divmod(max(selected, 0), batch_size)
    by_batch = sum(times * bulk_batches(size * k)
                   for size, times in ((batch_size, full), (rest, 1 if rest else 0))
                   for k in per_plan if size * k > threshold)
    return max(whole, by_batch)


def estimate_calls(selected: int, batch_size: int, milestones_per_plan: int,
                   threshold: int, tasks_per_plan: int = 0) -> int:
    """An upper bound of the API calls a real backfill of ``selected`` Opportunities costs,
    shown before an admin confirms: the selection read (REST pages of 2,000, or one Bulk
    query job), per batch the gather requests and the writes of plans, milestones, the
    milestones' Tasks (and each new Task's Id on its milestone) and rollups, as if every
    Opportunity got a new plan."""
    if selected <= 0:
        return 1
    reads = BULK_JOB_CALLS if selected > threshold else math.ceil(selected / 2000)
    full, rest = divmod(selected, batch_size)
    calls = 1 + reads  # the count, then the selection
    for size, times in ((batch_size, full), (rest, 1 if rest else 0)):
        per_batch = (2 + write_calls(size, threshold)
                     + write_calls(size * milestones_per_plan, threshold)
                     + 2 * write_calls(size * tasks_per_plan, threshold)
                     + write_calls(size, threshold))
        calls += per_batch * times
    return calls


def tasks_per_plan(mapping: StageMapping) -> int:
    """The most milestones of one template that get a Task (``tasks: sides``)."""
    return max(sum(1 for m in t.milestones if mapping.tasks_for(t.name).covers(m.side.value))
               for t in mapping.templates)
