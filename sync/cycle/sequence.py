"""The cycle: pull → gather → decide → push → commit, around one run.

A cycle reads what changed since the watermarks, then plans, pushes and commits the touched
Opportunities a chunk at a time (so memory stays flat however many changed); the watermarks
move with the last chunk only. A large first cycle on an org without plans streams its read
and spools its writes instead (:mod:`sync.cycle.first_cycle`). A batch (backfill, reconcile,
dead-letter retry) runs the same steps over Opportunity rows it is given, whatever the
watermarks say. Each step is a function
of its own module over explicit hand-off values; this module only sequences them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from config.batching import batched
from config.errors import RetryableError
from connectors.salesforce.errors import RETRYABLE_CODES
from sync.cycle import first_cycle, first_cycle_push, pull
from sync.cycle.commit import OnCommit, commit, tally, tally_dry
from sync.cycle.decide import Decisions, decide
from sync.cycle.gather import OrgHolds, gather
from sync.cycle.org import Org
from sync.cycle.push import PushResult, write
from sync.cycle.report import RunReport
from sync.cycle.run import Run, RunControl, open_run
from sync.cycle.sobjects import MILESTONE_OBJECT, OPPORTUNITY, PLAN_OBJECT, opportunity_of
from sync.cycle.spooled_push import run_spanning_jobs
from sync.store.records import DeadLetterStatus, RunKind, Watermark

CYCLE_RETRIES = 3  # cycles that retry a passing failure; then the dead-letter job backs off
SPLIT_DEPTH = 6  # a failing chunk is halved at most this many times (1/64 of it)


def run_cycle(org: Org, control: RunControl | None = None, *,
              extra: Iterable[str] = (), kind: RunKind = RunKind.CYCLE) -> RunReport:
    """One incremental cycle (plus ``extra`` Opportunities to re-plan).

    Never raises for a rate limit or a stop request (the report says so and the watermarks
    stay, so the next cycle resumes); other errors are recorded on the run and raised."""
    org_id = org.id
    with _open(org, org_id, kind, control) as run:
        with org.store.transaction(write=False) as tx:
            marks = dict(tx.watermarks(org_id))
        me = org.salesforce.user_id
        letters = _retryable_letters(org, org_id)
        jobs = run_spanning_jobs(org.salesforce)
        if marks.get(OPPORTUNITY) is None and jobs is not None:
            if first_cycle_push.resume(org, run, jobs):  # one ended during its push
                return run.report
            found = first_cycle.probe(org, marks, me, org.clock())
            if found.streams:  # a large org without plans: streamed and spooled
                first_cycle.run_streamed(org, run, jobs, found, marks, me, [*extra, *letters])
                return run.report
        pulled = pull.read(org.salesforce, marks, org.lookback, me,
                           extra=[*extra, *letters], now=org.clock(), teams=org.teams)
        run.report.pulled = pulled.counts()
        run.report.touched = len(pulled.touched)
        chunks = list(batched(pulled.touched, org.chunk_size)) or [[]]
        for n, chunk in enumerate(chunks):
            final = n == len(chunks) - 1
            if n:
                run.control.stop.check()
            _run_chunk(org, run, chunk, pulled, me, final)
    return run.report


def _run_chunk(org: Org, run: Run, chunk: list[str], pulled: pull.Pulled, me: str | None,
               final: bool, depth: int = 0) -> None:
    """Gather, decide, push and commit one chunk. A chunk whose reads keep failing for a
    passing reason (a query timing out on a large ``IN`` list, say) is split in two and each
    half is run on its own, instead of failing the cycle again and again as a whole."""
    decisions = Decisions()
    if chunk:
        try:
            gathered = gather(org.salesforce, org.store, org.mapping, org.id, chunk,
                              pulled.rows, first_read=pulled.first_read, roles=pulled.roles,
                              me=me, team=pulled.team, teams=org.teams)
        except RetryableError:
            if len(chunk) < 2 or depth >= SPLIT_DEPTH:
                raise
            half = len(chunk) // 2
            _run_chunk(org, run, chunk[:half], pulled, me, False, depth + 1)
            _run_chunk(org, run, chunk[half:], pulled, me, final, depth + 1)
            return
        decisions = decide(gathered, org.planner, me, org.clock().date())
    _push_and_commit(org, run, decisions, marks=pulled.marks if final else None, final=final)


def run_batch(org: Org, opportunities: Sequence[Mapping[str, Any]], *,
              kind: RunKind = RunKind.BACKFILL, control: RunControl | None = None,
              dry_run: bool = False, recreate_deleted: bool = False,
              on_commit: OnCommit | None = None,
              on_decided: Callable[[Decisions], None] | None = None,
              holds: OrgHolds | None = None) -> RunReport:
    """Plan and push the given Opportunity rows, whatever the watermarks say.

    ``opportunities`` carry at least :data:`sync.cycle.sobjects.OPPORTUNITY_FIELDS`.
    ``dry_run`` decides only (the report counts what would be written); ``recreate_deleted``
    lifts the tombstones of plans reps deleted; ``on_commit(tx)`` runs inside the commit
    transaction (a backfill's checkpoint lands with the data it covers), and only when every
    record of the batch was pushed: a run stopped by the API limit commits what landed but
    no checkpoint, so a resume repeats the batch (upserts make that safe).
    ``on_decided(decisions)`` sees what was decided before anything is pushed (a preview).
    ``holds``: what the caller found the org to hold when it started (:class:`OrgHolds`): an
    org that had no plan is asked only for the plans of Opportunities the plan index knows
    (those written since, by this job or the worker), one without contact roles for none.
    """
    rows = {str(r["Id"]): dict(r) for r in opportunities}
    org_id = org.id
    with _open(org, org_id, kind, control) as run:
        run.report.pulled = {OPPORTUNITY: len(rows)}
        run.report.touched = len(rows)
        if recreate_deleted and not dry_run:
            with org.store.transaction() as tx:
                for opp_id in tx.tombstoned_ids(org_id, list(rows)):
                    tx.remove_tombstone(org_id, opp_id)
        pulled: pull.Rows = {OPPORTUNITY: list(rows.values()), PLAN_OBJECT: [],
                             MILESTONE_OBJECT: []}
        me = org.salesforce.user_id
        holds = holds or OrgHolds()
        gathered = gather(org.salesforce, org.store, org.mapping, org_id, list(rows), pulled,
                          me=me, teams=org.teams, first_read=not holds.plans,
                          roles=None if holds.contact_roles else {})
        if recreate_deleted:  # on purpose: plans reps deleted come back
            gathered.deleted_plans.clear()
        decisions = decide(gathered, org.planner, me, org.clock().date())
        if on_decided is not None:
            on_decided(decisions)
        if dry_run:
            tally_dry(run.report, decisions)
        else:
            _push_and_commit(org, run, decisions, marks=None, on_commit=on_commit)
    return run.report


def decide_batch(org: Org, opportunities: Sequence[Mapping[str, Any]],
                 holds: OrgHolds | None = None, team: pull.Team | None = None,
                 roles: pull.Roles | None = None) -> Decisions:
    """What :func:`run_batch` would push for these Opportunity rows, pushing nothing and
    recording no run: a backfill that spools its writes pushes them later, in one go.
    ``team``, ``roles``: the Opportunity Team members and contact roles of these
    Opportunities, read once for all batches (else read for the batch)."""
    rows = {str(r["Id"]): dict(r) for r in opportunities}
    pulled: pull.Rows = {OPPORTUNITY: list(rows.values()), PLAN_OBJECT: [],
                         MILESTONE_OBJECT: []}
    me = org.salesforce.user_id
    holds = holds or OrgHolds()
    gathered = gather(org.salesforce, org.store, org.mapping, org.id, list(rows), pulled,
                      me=me, teams=org.teams, first_read=not holds.plans,
                      roles=roles if roles is not None or holds.contact_roles else {},
                      team=team)
    return decide(gathered, org.planner, me, org.clock().date())


def commit_pushed(org: Org, decisions: Decisions, result: PushResult, *,
                  kind: RunKind = RunKind.BACKFILL, control: RunControl | None = None,
                  on_commit: OnCommit | None = None) -> RunReport:
    """Record, as one run, what a push made elsewhere (``result``) did with ``decisions``:
    the commit step of :func:`run_batch` for writes a backfill sent in run-spanning jobs."""
    with _open(org, org.id, kind, control) as run:
        run.report.touched = len(decisions.changes)
        tally(run.report, decisions, result)
        commit(run, decisions, result, marks=None, on_commit=on_commit)
    return run.report


def _open(org: Org, org_id: str, kind: RunKind,
          control: RunControl | None) -> AbstractContextManager[Run]:
    return open_run(org.store, org.salesforce.usage, org_id, kind, control or RunControl())


def _push_and_commit(org: Org, run: Run, decisions: Decisions,
                     marks: Mapping[str, Watermark | None] | None, final: bool = True,
                     on_commit: OnCommit | None = None) -> None:
    """Push ``decisions`` and commit the outcome. A push stopped part-way (API limit, stop
    request, error) still commits what landed, but neither the watermarks nor ``on_commit``
    (a checkpoint must never claim records the push did not reach), so the next run repeats
    the rest; upserts make that safe."""
    result = PushResult()
    try:
        write(org.salesforce, decisions, run.control, result)
    except BaseException as err:
        tally(run.report, decisions, result)
        run.report.stop(err)
        commit(run, decisions, result, marks=None)
        raise
    tally(run.report, decisions, result)
    commit(run, decisions, result, marks=marks, on_commit=on_commit, final=final)


def _retryable_letters(org: Org, org_id: str) -> list[str]:
    """Opportunities whose writes failed for a passing reason: the cycle tries again.

    Letters that a retry cannot fix (validation and the like) wait for a person or the
    worker's dead-letter job instead of burning calls every cycle."""
    with org.store.transaction(write=False) as tx:
        letters = tx.dead_letters(org_id, status=DeadLetterStatus.OPEN)
    return sorted({opportunity_of(letter.external_id) for letter in letters
                   if letter.error_code in RETRYABLE_CODES
                   and letter.attempts < CYCLE_RETRIES})
