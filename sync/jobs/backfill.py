"""Backfill: give every selected Opportunity its plan, in checkpointed batches.

A first rollout (or a new template) must plan thousands to millions of existing
Opportunities, which the incremental cycle never sees because they did not change. A backfill
reads the selection in ``(CreatedDate, Id)`` order and hands batches to
:func:`sync.cycle.run_batch`; each batch's checkpoint (the cursor of its last row and the
running counts) commits in the same local transaction as the batch's shadow and plan index.
Its checkpoint is written as soon as the selection is counted, before the first batch, so
killed at any point — SIGKILL included — ``--resume`` continues after the last committed
batch (or from the start); a batch that was half pushed is repeated, and upserts by external
id make the repeat land on the same records. When the API budget guard stops a batch the
backfill pauses with its checkpoint and resumes when the quota returns.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from config.batching import batched
from config.errors import NothingToResumeError, RateLimitedError, StopRequested
from config.logging import get_logger
from sync.cycle import Org, OrgHolds, RunControl, RunReport, commit_pushed, decide_batch, run_batch
from sync.cycle.decide import Decisions
from sync.cycle.spool import Spool
from sync.cycle.spooled_push import people_of, push_spool, run_spanning_jobs
from sync.jobs.backfill_report import (
    BackfillReport,
    bulk_batches,
    estimate_batches,
    estimate_calls,
    tasks_per_plan,
    write_calls,
)
from sync.jobs.selection import Cursor, Selection, read
from sync.planner.model import Opportunity
from sync.store import Transaction
from sync.store.records import BackfillStatus, RunKind, RunOutcome

log = get_logger("mapsync.backfill")

# Batches above SF_BULK_THRESHOLD write every object through Bulk 2.0; memory grows with the
# batch. Backfilling 100,000 Opportunities: 2,000 → 1,420 calls, 286 MB peak; 4,000 → 630
# calls, 386 MB; 10,000 → 403 calls, 716 MB (tests/benchmarks/bench_operations.py).
DEFAULT_BATCH_SIZE = 4_000
SAMPLE_SIZE = 5
Progress = Callable[[int, int], None]  # (records done, total)


class Backfill:
    """One backfill of one org: a selection, a batch size, and what to do with deletions."""

    def __init__(self, org: Org, selection: Selection, *,
                 batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False,
                 recreate_deleted: bool = False, progress: Progress | None = None,
                 control: RunControl | None = None) -> None:
        self.org = org
        self.selection = selection
        self.batch_size = batch_size
        self.dry_run = dry_run
        self.recreate_deleted = recreate_deleted
        self.progress = progress or (lambda done, total: None)
        self.control = control or RunControl()
        self._holds = OrgHolds()

    @property
    def backfill_id(self) -> str:
        return self.selection.key(self.org.id, self.recreate_deleted)

    def count(self) -> int:
        """How many Opportunities the selection holds (one API call)."""
        return self.org.salesforce.count(self.selection.count_soql(None))

    def estimated_calls(self, selected: int) -> int:
        """:func:`estimate_calls` for this backfill's mapping, batch size and org."""
        return estimate_calls(selected, *self._shape())

    def estimated_batches(self, selected: int) -> int:
        """:func:`estimate_batches` for this backfill's mapping, batch size and org."""
        return estimate_batches(selected, *self._shape())

    def _shape(self) -> tuple[int, int, int, int]:
        """What the estimates read: batch size, the longest template's milestones, the Bulk
        threshold and the most Tasks a plan gets."""
        longest = max(len(t.milestones) for t in self.org.mapping.templates)
        return (self.batch_size, longest, self.org.salesforce.bulk_threshold,
                tasks_per_plan(self.org.mapping))

    def resumable(self) -> bool:
        """Whether this selection has a paused or interrupted backfill to continue."""
        with self.org.store.transaction(write=False) as tx:
            cp = tx.checkpoint(self.backfill_id)
        return cp is not None and cp.status in (BackfillStatus.RUNNING, BackfillStatus.PAUSED)

    def run(self, *, resume: bool = False) -> BackfillReport:
        """Plan and write the selection (or, dry, count what would be written)."""
        started = time.perf_counter()
        client = self.org.salesforce
        org = self.org.id
        report = BackfillReport(self.backfill_id, dry_run=self.dry_run)
        cursor: Cursor | None = None
        if resume:
            with self.org.store.transaction(write=False) as tx:
                cp = tx.checkpoint(report.backfill_id)
            if cp is None or cp.status not in (BackfillStatus.RUNNING, BackfillStatus.PAUSED):
                raise NothingToResumeError(
                    "no paused or interrupted backfill with these options to resume")
            cursor = Cursor.decode(cp.cursor)
            report.restore(cp.counts)
        calls_before = client.usage.calls
        spent_before = report.totals.api_calls
        params = {**self.selection.parameters(), "recreate_deleted": self.recreate_deleted}
        try:
            remaining = client.count(self.selection.count_soql(cursor))
            # On resume the count re-includes the rows of the cursor's second already done,
            # so the scope counted at the start stands (grown if Opportunities were added).
            report.selected = max(report.selected, report.done) if resume and \
                report.selected else report.done + remaining
            self.progress(report.done, report.selected)
            use_bulk = remaining > client.bulk_threshold
            # Once per run, not per batch: an org without plans (a first rollout) is not
            # asked, Opportunity by Opportunity, for plans and milestones it cannot hold.
            self._holds = OrgHolds.probe(client) if remaining else OrgHolds()
            spool = self._spool(report, resume, use_bulk)
            if spool is not None and not spool.exists():  # its batches are gone: again
                cursor, report.done = None, 0
                report.spool = {"name": spool.name, "length": 0, "jobs": {},
                                "committed": 0}
                spool.start()
            elif spool is not None and report.spool is not None:
                spool.cut(int(report.spool["length"]))
            if not self.dry_run:
                # Before the first batch: a backfill killed from here on is resumable.
                with self.org.store.transaction() as tx:
                    tx.put_checkpoint(report.backfill_id, org, params,
                                      cursor.encode() if cursor else None,
                                      report.stored_counts())
            log.info("backfill started", backfill_id=report.backfill_id, selected=remaining,
                     resumed_at=report.done, bulk=use_bulk, dry_run=self.dry_run)
            rows = read(client, self.selection, cursor, use_bulk=use_bulk)
            for batch in batched(rows, self.batch_size):
                if self.control.stop.requested:
                    report.status, report.totals.error = (BackfillStatus.PAUSED.value,
                                                          "stopped on request")
                    break
                keep = self._in_templates(batch, report)
                if spool is not None:
                    cursor = Cursor.of(batch[-1])
                    self._spool_batch(spool, keep, org, params, report, cursor,
                                      len(batch) - len(keep))
                    self.progress(report.done, report.selected)
                    continue
                cycle = self._run_batch(keep, org, params, report, Cursor.of(batch[-1]),
                                        calls_before, spent_before, len(batch) - len(keep))
                if cycle is not None and cycle.outcome == RunOutcome.RATE_LIMITED.value:
                    report.status, report.totals.error = BackfillStatus.PAUSED.value, cycle.error
                    break
                self.progress(report.done, report.selected)
            else:
                if spool is not None:
                    self._push_spool(spool, org, params, report,
                                     cursor.encode() if cursor else None)
                elif self.dry_run and self._would_spool(use_bulk):  # one job per object
                    report.estimated_bulk_batches = sum(
                        bulk_batches(count) for count in report.would_write.values())
                report.status = BackfillStatus.COMPLETED.value
        except (RateLimitedError, StopRequested) as err:  # a spooled backfill's: resumable
            report.status, report.totals.error = BackfillStatus.PAUSED.value, str(err)
        except Exception as err:
            # Whatever stopped it, what committed is checkpointed: --resume continues.
            report.status = BackfillStatus.PAUSED.value
            report.totals.error = f"{type(err).__name__}: {err}"
            raise
        finally:
            report.totals.api_calls = spent_before + client.usage.calls - calls_before
            report.totals.seconds = time.perf_counter() - started
            if not self.dry_run:
                self._finish(org, params, report)
        log.info("backfill ended", **report.as_dict())
        return report

    # --- a spooled backfill (spool.py, spooled_push.py) -----------------------------------

    def _would_spool(self, use_bulk: bool) -> bool:
        """Whether a new real run would spool (``_spool``): past the Bulk threshold, on an
        org without plans, with a connector whose jobs can span the run."""
        return (use_bulk and not self._holds.plans
                and run_spanning_jobs(self.org.salesforce) is not None)

    def _spool(self, report: BackfillReport, resume: bool, use_bulk: bool) -> Spool | None:
        """The spool of a resumed spooled backfill, or of a new real one past the Bulk
        threshold on an org without plans (nothing to read back, so no push per batch)."""
        if self.dry_run or run_spanning_jobs(self.org.salesforce) is None:
            return None
        if resume and report.spool is not None:
            return Spool(str(report.spool["name"]))
        if resume or not self._would_spool(use_bulk):
            return None
        spool = Spool(uuid.uuid4().hex)
        report.spool = {"name": spool.name, "length": 0, "jobs": {},
                        "committed": 0}
        spool.start()
        return spool

    def _spool_batch(self, spool: Spool, rows: list[dict[str, Any]], org: str,
                     params: Mapping[str, Any], report: BackfillReport, last: Cursor,
                     filtered: int) -> None:
        """Decide one batch and spool its decisions; the checkpoint names the spool's length.
        The batch's contact roles and team members come from the spool's tables (the org's
        every one read in one Bulk query, on the first batch)."""
        decisions = Decisions()
        if rows:
            ids = [str(r["Id"]) for r in rows]
            sf, tables = self.org.salesforce, spool.tables
            team = people_of(sf, tables, "team", ids) if self.org.teams else None
            roles = people_of(sf, tables, "roles", ids) if self._holds.contact_roles else None
            decisions = decide_batch(self.org, rows, self._holds, team, roles)
        assert report.spool is not None
        report.spool["length"] = spool.append(decisions)
        self._count(None, report, filtered, len(rows))
        with self.org.store.transaction() as tx:
            tx.put_checkpoint(report.backfill_id, org, params, last.encode(),
                              report.stored_counts())

    def _push_spool(self, spool: Spool, org: str, params: Mapping[str, Any],
                    report: BackfillReport, cursor: str | None) -> None:
        """Write the spool in one job per object, then commit its batches one by one, each
        with a checkpoint counting it (a resume commits the rest, from the same results)."""
        state = report.spool
        jobs = run_spanning_jobs(self.org.salesforce)
        assert state is not None
        assert jobs is not None

        def save(saved: dict[str, list[str]]) -> None:
            state["jobs"] = saved
            with self.org.store.transaction() as tx:
                tx.put_checkpoint(report.backfill_id, org, params, cursor,
                                  report.stored_counts())

        written = push_spool(spool, jobs, self.control, dict(state["jobs"]), save)
        for n, decisions in enumerate(spool.batches()):
            if n < int(state["committed"]):
                continue
            state["committed"] = n + 1
            before = report.stored_counts()

            def checkpoint(tx: Transaction, counts: dict[str, Any] = before) -> None:
                tx.put_checkpoint(report.backfill_id, org, params, cursor, counts)

            cycle = commit_pushed(self.org, decisions, written.outcome(decisions),
                                  control=self.control, on_commit=checkpoint)
            self._count(cycle, report, 0)  # rows counted when spooled
            with self.org.store.transaction() as tx:
                tx.put_checkpoint(report.backfill_id, org, params, cursor,
                                  report.stored_counts())
        spool.remove()

    # --- batches -------------------------------------------------------------------------

    def _in_templates(self, batch: list[dict[str, Any]],
                      report: BackfillReport) -> list[dict[str, Any]]:
        wanted = set(self.selection.templates)
        if not wanted:
            return batch
        mapping = self.org.mapping
        keep = []
        for row in batch:
            template = mapping.select_template(Opportunity.from_record(row).rule_fields())
            if template is not None and template.name in wanted:
                keep.append(row)
        return keep

    def _run_batch(self, rows: list[dict[str, Any]], org: str, params: Mapping[str, Any],
                   report: BackfillReport, last: Cursor, calls_before: int,
                   spent_before: int, filtered: int) -> RunReport | None:
        client = self.org.salesforce
        if not rows:
            self._count(None, report, filtered)
            if not self.dry_run:
                with self.org.store.transaction() as tx:
                    tx.put_checkpoint(report.backfill_id, org, params, last.encode(),
                                      report.stored_counts())
            return None
        before = report.stored_counts()
        before["done"] = report.done + len(rows) + filtered

        def checkpoint(tx: Transaction) -> None:
            # Runs inside the batch's commit: the cursor lands with the data it covers. The
            # batch's own counts follow a moment later (they are known once the run ends).
            tx.put_checkpoint(report.backfill_id, org, params, last.encode(), before)

        kind = RunKind.BACKFILL_DRY_RUN if self.dry_run else RunKind.BACKFILL
        cycle = run_batch(self.org, rows, kind=kind, control=self.control,
                          dry_run=self.dry_run, recreate_deleted=self.recreate_deleted,
                          on_commit=checkpoint, holds=self._holds)
        if cycle.outcome == RunOutcome.RATE_LIMITED.value:
            return cycle
        self._count(cycle, report, filtered, len(rows))
        report.totals.api_calls = spent_before + client.usage.calls - calls_before
        if self.dry_run:
            threshold = client.bulk_threshold
            changed_plans = cycle.plans_created + cycle.plans_updated  # (plans: a sample)
            report.estimated_write_calls += (
                write_calls(changed_plans, threshold)
                + write_calls(cycle.milestones_written, threshold)
                + 2 * write_calls(cycle.tasks_written, threshold)
                + write_calls(cycle.rollups_written, threshold))
            written = {"plans": changed_plans, "milestones": cycle.milestones_written,
                       "tasks": cycle.tasks_written, "rollups": cycle.rollups_written}
            for name, count in written.items():
                report.would_write[name] = report.would_write.get(name, 0) + count
            report.estimated_bulk_batches += sum(  # each batch's own jobs
                bulk_batches(count) for count in written.values() if count > threshold)
            for plan in cycle.plans.values():
                if len(report.sample) < SAMPLE_SIZE:
                    report.sample.append(plan)
            shown = {p.opportunity_id for p in report.sample} | {
                line.opportunity_id for line in report.totals.would_change}
            report.names.update({str(r["Id"]): str(r.get("Name") or r["Id"]) for r in rows
                                 if str(r["Id"]) in shown})
        else:
            with self.org.store.transaction() as tx:
                tx.put_checkpoint(report.backfill_id, org, params, last.encode(),
                                  report.stored_counts())
        return cycle

    @staticmethod
    def _count(cycle: RunReport | None, report: BackfillReport, filtered: int,
               rows: int = 0) -> None:
        if cycle is not None:
            calls = report.totals.api_calls
            report.totals.add(cycle)
            report.totals.api_calls = calls  # counted by the backfill over all its parts
        report.done += rows + filtered
        if filtered:
            report.totals.skip("not in the selected templates", filtered)

    def _finish(self, org: str, params: Mapping[str, Any], report: BackfillReport) -> None:
        status = report.status
        if status == BackfillStatus.RUNNING.value:
            status = BackfillStatus.PAUSED.value  # stopped without a verdict: resumable
        with self.org.store.transaction() as tx:
            cp = tx.checkpoint(report.backfill_id)
            cursor = cp.cursor if cp is not None else None
            stored = dict(cp.counts) if cp is not None else report.stored_counts()
            stored["api_calls"] = report.totals.api_calls
            tx.put_checkpoint(report.backfill_id, org, params, cursor, stored, status)
        report.status = status
