"""The worker: cycles on a schedule, a nightly reconcile, dead-letter retries, one lease.

``mapsync worker`` is the long-running process of a deployment. Its APScheduler 3 scheduler
runs the incremental cycle every ``SYNC_INTERVAL_SECONDS``, a reconcile once a night, the
dead-letter retries every few minutes and, when the mapping's templates ask for them, the
buyer's plan documents and check-in Tasks every 15 minutes, all in one worker thread (the org's
Salesforce session serves one job at a time), each with ``max_instances=1`` and
``coalesce=True`` so a slow run is never stacked up behind itself.

Several workers may run against one store, on one machine or many: each job first takes the
org's lease (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), so only the lease holder
syncs; the others stand by. A heartbeat thread, apart from the jobs, renews the lease while
the holder lives; a holder that dies stops renewing and the lease expires after its time to
live, when a standby takes it on its next tick. Every commit of a run is fenced on the lease
(:meth:`Worker.fence`): a worker that stalled past its lease and wakes up mid-run cannot
commit over the one that took over.

On SIGTERM/SIGINT the worker takes no new job and asks the one in flight to stop at its next
safe point (between two push steps or two chunks: the runs share the worker's ``StopToken``,
``sync.cycle.run``): what landed
is committed in one transaction and the rest is repeated by the next run. If a run still
outlasts the grace period (one long Salesforce call) the process exits in time, before that
commit; the next start repeats the run, and upserts by external id keep it from duplicating
anything.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.logging import get_logger
from sync.cycle import Org, RunControl, RunReport, StopToken, run_cycle
from sync.jobs import checkins, deadletters, reconcile, share, status
from sync.jobs.lease import OrgLease
from sync.jobs.metrics import WorkerMetrics
from sync.store import Transaction
from sync.store.records import RunKind

log = get_logger("mapsync.worker")


@dataclass(frozen=True)
class WorkerOptions:
    """The schedule and the lease; defaults suit a Procfile platform."""

    interval_seconds: float = 120
    lease_ttl_seconds: float = 90
    heartbeat_seconds: float = 15
    retry_interval_seconds: float = 300
    reconcile_at: dt.time = dt.time(3, 0)  # UTC
    reconcile: bool = True
    share_interval_seconds: float = 900  # buyer documents and check-ins (share/check_in)
    shutdown_grace_seconds: float = 20
    holder: str = ""

    def checked(self) -> WorkerOptions:
        if self.heartbeat_seconds * 2 > self.lease_ttl_seconds:
            raise ValueError("the lease's time to live must be at least two heartbeats")
        return self


class Worker:
    """Runs the jobs of one org while it holds that org's lease."""

    def __init__(self, org: Org, options: WorkerOptions, *,
                 metrics: WorkerMetrics | None = None,
                 retry_policy: deadletters.RetryPolicy | None = None,
                 stop: StopToken | None = None) -> None:
        self.org = org
        self.store = org.store
        self.options = options.checked()
        self.lease = OrgLease(org.store, org.id, options.holder or None,
                              ttl_seconds=self.options.lease_ttl_seconds)
        self.holder = self.lease.holder
        self.metrics = metrics
        self.retry_policy = retry_policy or deadletters.RetryPolicy()
        self.org_id = org.id
        self._stopping = stop or StopToken()
        self._busy = threading.Lock()
        self._scheduler = self._build_scheduler()
        # A run in flight stops at a safe point when the worker stops; it stops writing as soon
        # as the lease is lost, and every commit is fenced on the lease.
        self.control = RunControl(stop=self._stopping, guard=self.lease.fence,
                                  before_write=self.lease.check)
        org.salesforce.set_write_guard(self.lease.check)  # and before every single write

    # --- lifecycle -----------------------------------------------------------------------

    def run(self) -> bool:
        """Run until :meth:`stop`; return ``True`` if the last job ended within the grace."""
        log.info("worker started", holder=self.holder, org=self.org_id,
                 interval_s=self.options.interval_seconds,
                 lease_ttl_s=self.options.lease_ttl_seconds)
        self._scheduler.start()
        while not self._stopping.wait(0.5):
            pass
        return self._shutdown()

    def stop(self) -> None:
        """Take no new job; safe to call from a signal handler."""
        self._stopping.request("worker stopping")

    @property
    def stopping(self) -> bool:
        return self._stopping.requested

    def _shutdown(self) -> bool:
        started = time.monotonic()
        log.info("worker stopping: no new jobs, waiting for the one in flight")
        self._scheduler.shutdown(wait=False)
        finished = self._busy.acquire(timeout=self.options.shutdown_grace_seconds)
        if finished:
            self._busy.release()
            self.lease.release()
            log.info("worker stopped", seconds=round(time.monotonic() - started, 2))
        else:
            log.warning("the run in flight outlasted the grace period; it is repeated on the "
                        "next start", grace_s=self.options.shutdown_grace_seconds)
        return finished

    def _build_scheduler(self) -> BackgroundScheduler:
        o = self.options
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=dt.UTC)
        now = dt.datetime.now(dt.UTC)
        scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=o.heartbeat_seconds),
                          id="heartbeat", executor="heartbeat", next_run_time=now,
                          misfire_grace_time=max(int(o.heartbeat_seconds), 1))
        scheduler.add_job(self.cycle, IntervalTrigger(seconds=o.interval_seconds), id="cycle",
                          next_run_time=now, misfire_grace_time=max(int(o.interval_seconds), 1))
        scheduler.add_job(self.retry_dead_letters,
                          IntervalTrigger(seconds=o.retry_interval_seconds), id="retry",
                          misfire_grace_time=max(int(o.retry_interval_seconds), 1))
        if any(t.share or t.check_in for t in self.org.mapping.templates):
            scheduler.add_job(self.share, IntervalTrigger(seconds=o.share_interval_seconds),
                              id="share", misfire_grace_time=max(int(o.share_interval_seconds), 1))
        if o.reconcile:
            scheduler.add_job(self.reconcile, CronTrigger(hour=o.reconcile_at.hour,
                                                          minute=o.reconcile_at.minute,
                                                          timezone=dt.UTC),
                              id="reconcile", misfire_grace_time=3600)
        return scheduler

    # --- lease -----------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Renew the lease while holding it (from its own thread, beside the jobs); a lost
        lease stops the run in flight before its next write (``OrgLease.check``)."""
        held = self.lease.renew()
        if self.metrics is not None:
            self.metrics.lease_held.set(1 if held else 0)
            if held:
                self.metrics.heartbeat.set(time.time())

    def fence(self, tx: Transaction) -> None:
        """Inside a run's commit: refuse to commit unless this worker still holds the lease."""
        self.lease.fence(tx)

    def _job(self, kind: RunKind | str, body: Callable[[], None]) -> None:
        if self._stopping.requested:
            return
        with self._busy:
            if self._stopping.requested:
                return
            try:
                if not self.lease.take():
                    log.debug("standing by: another worker holds the lease", job=str(kind))
                    return
                body()
            except Exception as err:  # a job's failure must not end the worker
                log.error("job failed", job=str(kind), error=f"{type(err).__name__}: {err}")
            finally:
                self._observe_state()

    # --- jobs ------------------------------------------------------------------------------

    def cycle(self) -> None:
        """One incremental cycle."""
        self._job(RunKind.CYCLE,
                  lambda: self._observe(RunKind.CYCLE, run_cycle(self.org, self.control)))

    def retry_dead_letters(self) -> None:
        """Retry the open dead letters whose backoff has passed."""
        def body() -> None:
            letters = deadletters.due(self.store, self.org_id, self.retry_policy,
                                      self.store.now())
            if letters:
                deadletters.retry(self.org, letters, self.retry_policy, self.control)
        self._job(RunKind.RETRY, body)

    def reconcile(self) -> None:
        """Re-plan every Opportunity and repair drift."""
        def body() -> None:
            reconcile.reconcile(self.org, control=self.control)
        self._job(RunKind.RECONCILE, body)

    def share(self) -> None:
        """The buyer's plan documents of templates with ``share: true`` (a new version only
        when a plan changed), and the plans' check-in Tasks."""
        def body() -> None:
            templates = share.shared_templates(self.org.mapping)
            if templates:
                share.share_plans(self.org, templates=templates)
            checkins.keep_check_ins(self.org)
        self._job("share", body)

    def _observe(self, kind: RunKind, report: RunReport) -> None:
        if self.metrics is not None:
            self.metrics.observe_run(str(kind), report)

    def _observe_state(self) -> None:
        if self.metrics is None:
            return
        try:
            now = self.store.now()
            lag, _ = status.lag(self.store, self.org_id, now)
            with self.store.transaction(write=False) as tx:
                counts = {s.value: n for s, n in tx.dead_letter_counts(self.org_id).items()}
            self.metrics.observe_state(counts, lag)
        except Exception as err:  # metrics never stop a worker
            log.warning("metrics not updated", error=str(err))
