"""What a run did: one report type for every kind of run.

A cycle, a backfill batch, a reconcile batch and a dead-letter retry are all runs of the same
steps, so they share this report; a job made of several runs (a backfill, a reconcile) adds
its runs' reports into one with :meth:`RunReport.add`. The CLI prints it, the run record
stores its counts, the worker's metrics and the demo read it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from config.errors import MapsyncError, RateLimitedError, StopRequested
from sync.planner.model import DesiredPlan
from sync.store.records import RunKind, RunOutcome

SAMPLE_PLANS = 25  # desired plans a report keeps, for dry runs and the CLI
_COUNTERS = ("touched", "plans_created", "plans_updated", "plans_unchanged", "plans_deleted",
             "milestones_written", "rollups_written", "tasks_written", "dead_letters",
             "owner_unknown", "milestones_restored", "api_calls")


@dataclass(frozen=True)
class PlanChangeLine:
    """What a dry run found one plan would get: created, or which of its fields change, and
    how many milestones would be written."""

    opportunity_id: str
    created: bool
    fields: tuple[str, ...]
    milestones: int


@dataclass
class RunReport:
    """What one run (or, added up, one job of several runs) did."""

    kind: RunKind = RunKind.CYCLE
    run_id: int | None = None
    outcome: str = RunOutcome.SUCCEEDED.value
    pulled: dict[str, int] = field(default_factory=dict)
    touched: int = 0
    plans_created: int = 0
    plans_updated: int = 0
    plans_unchanged: int = 0
    plans_deleted: int = 0
    milestones_written: int = 0
    rollups_written: int = 0
    tasks_written: int = 0  # the milestones' Tasks created or changed
    dead_letters: int = 0
    owner_unknown: int = 0
    milestones_restored: int = 0  # a reconcile's: forgotten so that the re-plan recreates them
    skipped: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    plans: dict[str, DesiredPlan] = field(default_factory=dict)  # a sample of this run's
    would_change: list[PlanChangeLine] = field(default_factory=list)  # a dry run's, sampled
    runs: list[int] = field(default_factory=list)  # run records this report covers
    finished: bool = False  # the run record is written (with the data, when there was some)
    started_at: float = field(default_factory=time.perf_counter, repr=False)
    calls_before: int = field(default=0, repr=False)

    def counts(self) -> dict[str, Any]:
        """The counts a run record stores."""
        return {
            "pulled": self.pulled, "touched": self.touched,
            "plans_created": self.plans_created, "plans_updated": self.plans_updated,
            "plans_unchanged": self.plans_unchanged, "plans_deleted": self.plans_deleted,
            "milestones_written": self.milestones_written,
            "rollups_written": self.rollups_written, "tasks_written": self.tasks_written,
            "dead_letters": self.dead_letters,
            "owner_unknown": self.owner_unknown, "skipped": self.skipped,
        }

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def add(self, other: RunReport) -> None:
        """Add ``other``'s counts (a run of this job) into this report."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.pulled = dict(Counter(self.pulled) + Counter(other.pulled))
        for reason, n in other.skipped.items():
            self.skip(reason, n)
        for opp_id, plan in other.plans.items():
            if len(self.plans) < SAMPLE_PLANS:
                self.plans.setdefault(opp_id, plan)
        room = max(SAMPLE_PLANS - len(self.would_change), 0)
        self.would_change.extend(other.would_change[:room])
        self.runs.extend(other.runs)
        if other.outcome != RunOutcome.SUCCEEDED.value and \
                self.outcome == RunOutcome.SUCCEEDED.value:
            self.outcome = other.outcome
            self.error = other.error

    def stop(self, err: BaseException) -> None:
        """Record the outcome of a run that ``err`` ends before its commit."""
        if isinstance(err, RateLimitedError):
            self.outcome = RunOutcome.RATE_LIMITED.value
        elif isinstance(err, StopRequested):
            self.outcome = RunOutcome.PARTIAL.value
        else:
            self.outcome = RunOutcome.FAILED.value
        self.error = str(err) if isinstance(err, MapsyncError) else f"{type(err).__name__}: {err}"
