"""One run: its report, its run record, how it is stopped and how its commits are fenced.

Every kind of run (cycle, backfill batch, reconcile batch, dead-letter retry) goes through
:func:`open_run`, which writes the run record when the run starts and again when it ends,
binds the run's id to every log line, and turns the two ways a run ends early into outcomes
instead of errors: the API limit (``rate_limited``: state kept, the next run resumes) and a
stop request (``partial``: what landed is committed). Any other error is recorded as
``failed`` and raised.

:class:`StopToken` is the one stop mechanism of a process: the signal handlers, the worker's
shutdown and a lost lease all request a stop on it, and every step checks it at its safe
points. :class:`RunControl` carries it together with the commit guard (the worker fences every
commit on its lease) to whatever runs the steps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from config.errors import RateLimitedError, StopRequested
from config.logging import bind_run, get_logger
from sync.cycle.report import RunReport
from sync.store import Store, Transaction
from sync.store.records import RunKind, RunOutcome

log = get_logger("mapsync.run")

CommitGuard = Callable[[Transaction], None]


class StopToken:
    """A stop request shared by everything one process runs; thread- and signal-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str = "stop requested") -> None:
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; ``True`` as soon as a stop is requested."""
        return self._event.wait(seconds)

    def check(self) -> None:
        """At a safe point: raise :class:`StopRequested` when a stop was requested."""
        if self._event.is_set():
            raise StopRequested(f"{self.reason}: stopped at a safe point; what landed is "
                                "committed and the rest is repeated by the next run")


@dataclass(frozen=True)
class RunControl:
    """How a run is stopped and how its commits are fenced (the worker sets both)."""

    stop: StopToken = field(default_factory=StopToken)
    guard: CommitGuard | None = None
    # Asked before every write to Salesforce; raising stops the run before it writes.
    before_write: Callable[[], None] | None = None

    def check_write(self) -> None:
        """Before a write step: the hook first (it may request a stop), then the token."""
        if self.before_write is not None:
            self.before_write()
        self.stop.check()


class ApiCounter(Protocol):
    """What a run needs to know of the connector's API usage."""

    @property
    def calls(self) -> int: ...

    def new_run(self) -> None: ...


@dataclass
class Run:
    """A run in progress: its kind, org, report and control."""

    kind: RunKind
    org_id: str
    report: RunReport
    control: RunControl
    store: Store
    usage: ApiCounter

    def finish(self, tx: Transaction | None = None) -> None:
        """Write the run record: inside ``tx`` (a commit) when given, else on its own."""
        report = self.report
        report.api_calls = self.usage.calls - report.calls_before
        report.seconds = time.perf_counter() - report.started_at
        if report.run_id is None or report.finished:
            return
        if report.dead_letters and report.outcome == RunOutcome.SUCCEEDED.value:
            report.outcome = RunOutcome.PARTIAL.value
        if tx is None:
            with self.store.transaction() as own:
                own.finish_run(report.run_id, report.outcome, report.counts(),
                               report.api_calls, report.error)
        else:
            tx.finish_run(report.run_id, report.outcome, report.counts(), report.api_calls,
                          report.error)
        report.finished = True


@contextmanager
def open_run(store: Store, usage: ApiCounter, org_id: str, kind: RunKind,
             control: RunControl) -> Iterator[Run]:
    """A run record from start to end; see the module docstring for how runs end."""
    usage.new_run()
    report = RunReport(kind=kind, calls_before=usage.calls)
    with store.transaction() as tx:
        report.run_id = tx.start_run(org_id, kind)
    report.runs.append(report.run_id)
    run = Run(kind, org_id, report, control, store, usage)
    with bind_run(run_id=report.run_id, org=org_id, kind=str(kind)):
        try:
            yield run
        except RateLimitedError as err:
            report.stop(err)
            log.warning("run stopped: API limit", error=str(err))
        except StopRequested as err:
            report.stop(err)
            log.info("run stopped at a safe point", error=str(err))
        except Exception as err:
            report.stop(err)
            run.finish()
            log.error("run failed", error=report.error)
            raise
        run.finish()
        log.info("run finished", outcome=report.outcome, api_calls=report.api_calls,
                 seconds=round(report.seconds, 2), **report.counts())
