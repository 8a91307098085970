"""A streamed first cycle's push, checkpointed: ended during it, the next cycle resumes it.

A streamed first cycle (:mod:`sync.cycle.first_cycle`) spools the whole org's decisions and
writes them in one Bulk job per object; at a million Opportunities the jobs take a long while
to upload and process. Killed or stopped among them, a repeat would read and plan the org
again and upload what Salesforce already holds. So the cycle keeps a checkpoint in the store
(a row of the backfill checkpoints, ``first-cycle:<org>``) naming its spool. Once the spool
is whole, its tables keep what the commits need (the marks the cycle leaves, what it read),
and the checkpoint each object's job ids, saved once the object is uploaded, and how many
batches committed (written in each batch's commit transaction). The next cycle of the org
finds the checkpoint before it reads anything:

- the spool whole, here: the saved jobs' results are collected (nothing uploaded again), an
  object never wholly uploaded is uploaded, and the batches not committed yet commit, the
  marks with the last;
- the spool not whole (the cycle ended while reading) or gone (another machine, a cleaned
  temporary directory): it is dropped and the cycle starts over, as it did before the
  checkpoint; upserts by external id land on the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.logging import get_logger
from connectors.salesforce.bulk import MAX_UPLOAD_BYTES
from sync.cycle.commit import commit, tally
from sync.cycle.org import Org
from sync.cycle.run import Run
from sync.cycle.spool import Spool
from sync.cycle.spooled_push import RunSpanningJobs, push_spool
from sync.store import Transaction
from sync.store.records import BackfillStatus, Watermark

log = get_logger("mapsync.first_cycle")

UPLOAD_BYTES = MAX_UPLOAD_BYTES  # a job's CSV part at the most
CHECKPOINT = "first-cycle:"  # + the org's Id: the checkpoint row of its first cycle
_NOTE = "first cycle"  # the spool tables' note: (marks, pulled, touched)
Marks = Mapping[str, Watermark | None]


def checkpoint_id(org_id: str) -> str:
    return CHECKPOINT + org_id


def begin(org: Org, spool: Spool) -> None:
    """The spool is started: a cycle ended from here on leaves it named for the next one."""
    _put(org, spool, {"batches": None, "jobs": {}, "committed": 0})


def abandon(org: Org, spool: Spool) -> None:
    """The cycle ended before its spool was whole: nothing of it to resume."""
    spool.remove()
    _put(org, spool, {"batches": None, "jobs": {}, "committed": 0}, BackfillStatus.FAILED)


def push_and_commit(org: Org, run: Run, jobs: RunSpanningJobs, spool: Spool, batches: int,
                    marks: Marks) -> None:
    """The spool is whole (``batches`` of them): keep what a resume needs, write, commit."""
    spool.tables.keep_note(_NOTE, (dict(marks), run.report.pulled, run.report.touched))
    state: dict[str, Any] = {"batches": batches, "jobs": {}, "committed": 0}
    _put(org, spool, state)
    _push(org, run, jobs, spool, state, marks)


def resume(org: Org, run: Run, jobs: RunSpanningJobs) -> bool:
    """Finish a first cycle of ``org`` that ended during its push; whether there was one."""
    with org.store.transaction(write=False) as tx:
        cp = tx.checkpoint(checkpoint_id(org.id))
    if cp is None or cp.status != BackfillStatus.RUNNING:
        return False
    spool = Spool(str(cp.parameters["spool"]))
    state = dict(cp.counts)
    note = spool.tables.note(_NOTE) if spool.exists() and state["batches"] else None
    if note is None:
        abandon(org, spool)
        log.info("first cycle starts over: its spool is not here", spool=spool.name)
        return False
    marks, run.report.pulled, run.report.touched = note
    log.info("first cycle resumed from its saved jobs", jobs=sorted(state["jobs"]),
             committed=state["committed"], batches=state["batches"])
    _push(org, run, jobs, spool, state, marks)
    return True


def _push(org: Org, run: Run, jobs: RunSpanningJobs, spool: Spool, state: dict[str, Any],
          marks: Marks) -> None:
    def save(saved: dict[str, list[str]]) -> None:
        state["jobs"] = saved
        _put(org, spool, state)

    written = push_spool(spool, jobs, run.control, dict(state["jobs"]), save, UPLOAD_BYTES)
    batches = int(state["batches"])
    for n, decisions in enumerate(spool.batches()):
        if n < int(state["committed"]):
            continue
        last = n == batches - 1
        done = {**state, "committed": n + 1}

        def checkpoint(tx: Transaction, done: dict[str, Any] = done, last: bool = last) -> None:
            _put_in(tx, org, spool, done,
                    BackfillStatus.COMPLETED if last else BackfillStatus.RUNNING)

        result = written.outcome(decisions)
        tally(run.report, decisions, result)
        commit(run, decisions, result, marks=marks if last else None, final=last,
               on_commit=checkpoint)
        state["committed"] = n + 1
    spool.remove()


def _put(org: Org, spool: Spool, counts: Mapping[str, Any],
         status: BackfillStatus = BackfillStatus.RUNNING) -> None:
    with org.store.transaction() as tx:
        _put_in(tx, org, spool, counts, status)


def _put_in(tx: Transaction, org: Org, spool: Spool, counts: Mapping[str, Any],
            status: BackfillStatus) -> None:
    tx.put_checkpoint(checkpoint_id(org.id), org.id, {"spool": spool.name}, None, counts,
                      status)
