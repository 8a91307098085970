"""What a run did: the counts the CLI prints, the run record stores and the demo shows.

Kept apart from the engine so commands, the worker's metrics and the backfill read a report
without importing the engine's machinery.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from config.errors import MapsyncError, RateLimitedError
from sync.planner.model import DesiredPlan
from sync.store.records import RunOutcome

SAMPLE_PLANS = 25  # desired plans a report keeps, for dry runs and the CLI


@dataclass
class CycleReport:
    """What one cycle did, for the CLI summary, the run record and the demo."""

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
    dead_letters: int = 0
    owner_unknown: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    plans: dict[str, DesiredPlan] = field(default_factory=dict)  # a sample of this run's
    finished: bool = False  # the run record is written (with the data, when there was some)
    started_at: float = field(default_factory=time.perf_counter, repr=False)
    calls_before: int = field(default=0, repr=False)

    def counts(self) -> dict[str, Any]:
        return {
            "pulled": self.pulled, "touched": self.touched,
            "plans_created": self.plans_created, "plans_updated": self.plans_updated,
            "plans_unchanged": self.plans_unchanged, "plans_deleted": self.plans_deleted,
            "milestones_written": self.milestones_written,
            "rollups_written": self.rollups_written, "dead_letters": self.dead_letters,
            "owner_unknown": self.owner_unknown, "skipped": self.skipped,
        }

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1



class StopRequested(MapsyncError):
    """The run was asked to stop (worker shutdown) and did so between two push steps."""


def mark_stopped(report: CycleReport, err: BaseException) -> None:
    """The run's outcome when ``err`` ends it before its commit."""
    if isinstance(err, RateLimitedError):
        report.outcome = RunOutcome.RATE_LIMITED.value
    elif isinstance(err, StopRequested):
        report.outcome = RunOutcome.PARTIAL.value
    else:
        report.outcome = RunOutcome.FAILED.value
    report.error = str(err) if isinstance(err, MapsyncError) else f"{type(err).__name__}: {err}"
