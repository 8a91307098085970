"""A million Opportunities on one worker: backfill, first cycle, then 1,000 rep edits.

Against the local org *without latency* (issue 14: what is measured is mapsync's own cost,
not waiting), seeded with ``--opportunities N`` generated Opportunities (``seed="empty"``,
bulk-inserted: 1,000,000 take ≈ 40 s and ≈ 1 GB on disk). The org runs in a child process
and every mapsync run in another (``child_run.py``), so each peak RSS is that run's alone:

(a) a backfill (``sync.jobs.backfill.Backfill``, what ``mapsync backfill --yes`` runs) into
    an empty store;
(b) on a newly seeded org, a first cycle (``run_cycle``, what the worker runs) into an
    empty store; then a rep edits 1,000 milestones (status or due date, Collections of 200
    in the rep's own session) and (c) one incremental cycle runs on the same store.

Each org's clock is moved 10 minutes past its seed before the runs: a backlog entered before
the first cycle, whose rows lie before the first read's window (``--fresh``: the moment after
seeding, every row and its stage history inside that window, which a first cycle re-plans).

For each: API calls as the org counted them (and by request: method and path), beside the
Bulk floor, wall time, mapsync's CPU seconds (``time.process_time`` of the run), its peak
RSS (``VmHWM`` of its process) and the store on disk (every table with its indexes,
``tx.table_sizes()``) per synced record (a plan, milestone, rollup or milestone Task
written). ``--postgres`` repeats (a) and (b) into a PostgreSQL 15 store
(``tests/fixtures/postgres.py`` starts the server); ``--postgres-only`` runs them into it
alone.

The Bulk floor of a run is what Bulk API 2.0 needs at the least: one query job for the
Opportunities and one ingest job per object the run wrote, ≈ 5 calls each (create, upload,
close, one poll, results), whatever N is: ``5 × (1 + objects written)``, plus 5 for each job
Salesforce's upload limit forces beyond one per object (150 MB once base64-encoded: an
object's CSV of ``n`` bytes takes ``ceil(4n/3 / 150 MB)`` jobs at the least). Targets (issue 14):
calls ≤ 2 × floor, peak RSS < 500 MB, ≤ 250 bytes per synced record; the incremental cycle's
calls proportional to the change (1 poll + the reads and writes of the touched
Opportunities) and seconds, not minutes, of CPU.

    python -m tests.benchmarks.bench_million [--opportunities N] [--edits N] [--postgres]
                                             [--postgres-only] [--only backfill|cycle]
                                             [--fresh]
                                             [--profile-incremental FILE]
                                             [--profile-backfill FILE] [--profile-first-cycle FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.emulator.routes_bulk import MAX_UPLOAD_BASE64_BYTES, base64_length
from tests.benchmarks.child_run import run_child
from tests.benchmarks.profiles import (
    BenchProfile,
    OrgProcess,
    calls_by_endpoint,
    polls_per_job,
    summary,
    target,
)

BULK_JOB_CALLS = 5  # create, upload, close, one poll, results
TARGET_PEAK_MB = 500
TARGET_BYTES_PER_RECORD = 250
LOOKBACK_SECONDS = 30  # the seeded rows are older than this when a cycle runs
SEED_AGE = dt.timedelta(minutes=10)  # how long before the runs the backlog was entered
REP_STATUSES = ("In Progress", "Blocked", "Done")
NO_LATENCY = BenchProfile("flat", latency_ms=0)


# --- the parent: orgs, rep edits, the table --------------------------------------------

@contextlib.contextmanager
def seeded(work: Path, opportunities: int, fresh: bool) -> Iterator[tuple[OrgProcess, float]]:
    """A seeded local org without latency, and the seconds its seeding took.

    A real backlog was entered long before the first run: its rows (and their stage history)
    lie before the first read's window (the lookback and its 5-minute margin), which a first
    cycle holds and re-plans. So the org's clock moves on ``SEED_AGE`` past the seed, as in
    ``tests/operations/test_memory_growth.py``; ``fresh`` keeps it on the wall clock (every
    row inside the window: an org seeded the moment before)."""
    started = time.perf_counter()
    with OrgProcess(work, NO_LATENCY, seed="empty", opportunities=opportunities,
                    daily_api_limit=1_000_000_000) as org:
        took = time.perf_counter() - started
        if fresh:
            time.sleep(LOOKBACK_SECONDS + 1)  # the rows older than the lookback at least
        else:
            org.age(SEED_AGE)
        yield org, took


def measured(org: OrgProcess, kind: str, env: dict[str, str], args: argparse.Namespace,
             profile_to: Path | None = None) -> dict[str, Any]:
    """A child run, with the API calls and Bulk polls the org counted during it."""
    before = org.tally()
    result = run_child(kind, env, args.batch_size, profile_to)
    after = org.tally()
    result.update(calls=after["api_calls"] - before["api_calls"], org_peak_mb=org.peak_mb(),
                  bulk=polls_per_job(before, after), endpoints=calls_by_endpoint(before, after))
    written = sum(1 for n in result["records"].values() if n)
    result["forced_jobs"] = forced_jobs(before["uploaded"], after["uploaded"])
    result["uploaded_mb"] = {k: round((v - before["uploaded"].get(k, 0)) / 1e6, 1)
                             for k, v in after["uploaded"].items()
                             if v > before["uploaded"].get(k, 0)}
    result["floor"] = BULK_JOB_CALLS * (1 + written + result["forced_jobs"])
    return result


def forced_jobs(before: dict[str, int], after: dict[str, int]) -> int:
    """The ingest jobs beyond one per object that Salesforce's upload limit forces: an
    object whose CSV came to ``n`` bytes takes at least ``ceil(base64(n) / 150 MB)`` jobs,
    whatever the client does (what the org was sent between two tallies)."""
    extra = 0
    for sobject, size in after.items():
        sent = size - before.get(sobject, 0)
        extra += max(0, -(-base64_length(sent) // MAX_UPLOAD_BASE64_BYTES) - 1)
    return extra


def child_env(org: OrgProcess, database_url: str) -> dict[str, str]:
    return {**os.environ, **org.env, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json", "SYNC_LOOKBACK_SECONDS": str(LOOKBACK_SECONDS)}


def rep_edits(org: OrgProcess, count: int) -> tuple[int, float]:
    """A rep edits ``count`` milestones they can see (status or due date), in their own
    session, Collections of 200: the edits landed and the seconds they took."""
    from config.settings import load_settings
    from connectors.salesforce.client import SalesforceClient

    admin = SalesforceClient(load_settings(**{k.lower(): v for k, v in org.jwt_env.items()}))
    username = org.jwt_env["SF_USERNAME"]
    reps = list(admin.query(f"SELECT Id, Username FROM User WHERE Username != '{username}' "
                            "ORDER BY Username"))
    edits: list[dict[str, Any]] = []
    started = time.perf_counter()
    today = dt.datetime.now(dt.UTC).date()
    for rep in reps:
        as_rep = SalesforceClient(load_settings(**{
            **{k.lower(): v for k, v in org.jwt_env.items()}, "sf_username": rep["Username"]}))
        # one milestone per plan, so the edits touch as many Opportunities as they can
        by_plan: dict[str, str] = {}
        for row in as_rep.query("SELECT Id, Plan__c FROM MAP_Milestone__c WHERE Status__c = "
                                f"'Not Started' LIMIT {20 * count}"):
            by_plan.setdefault(str(row["Plan__c"]), str(row["Id"]))
        chosen = list(by_plan.values())[:count - len(edits)]
        mine = [{"Id": m, "Status__c": REP_STATUSES[i % 3]} if i % 2 else
                {"Id": m, "Due_Date__c": (today + dt.timedelta(days=5 + i % 90)).isoformat()}
                for i, m in enumerate(chosen, start=len(edits))]
        results = as_rep.update("MAP_Milestone__c", mine)
        edits += [e for e, r in zip(mine, results, strict=True) if r.success]
        if len(edits) >= count:
            break
    return len(edits), time.perf_counter() - started


def quiet() -> None:
    import logging

    import structlog

    logging.getLogger().setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def postgres_urls(enabled: bool) -> contextlib.AbstractContextManager[Any]:
    if not enabled:
        return contextlib.nullcontext(None)
    from tests.fixtures.postgres import running_postgres

    return running_postgres()


def upgraded(url: str) -> str:
    """``url``'s database at the code's schema, as ``mapsync db upgrade`` leaves it (a
    PostgreSQL store is never upgraded by the worker or a backfill on its own)."""
    from sync.store.store import Store

    Store.open(url, auto_upgrade=True).close()
    return url


def main(argv: list[str]) -> int:
    from sync.jobs.backfill import DEFAULT_BATCH_SIZE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--edits", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help="the backfill's batch (default: the product's)")
    parser.add_argument("--postgres", action="store_true",
                        help="repeat the backfill and the first cycle into PostgreSQL 15")
    parser.add_argument("--postgres-only", action="store_true",
                        help="the backfill and the first cycle into PostgreSQL 15 only")
    parser.add_argument("--only", choices=("backfill", "cycle"))
    parser.add_argument("--fresh", action="store_true",
                        help="run on the org the moment it is seeded (every row and its stage "
                             "history inside the first read's window), not 10 minutes after")
    parser.add_argument("--profile-incremental", type=Path, metavar="FILE",
                        help="write a cProfile of the incremental cycle to FILE")
    parser.add_argument("--profile-backfill", type=Path, metavar="FILE",
                        help="write a cProfile of the backfill (SQLite) to FILE")
    parser.add_argument("--profile-first-cycle", type=Path, metavar="FILE",
                        help="write a cProfile of the first cycle (SQLite) to FILE")
    args = parser.parse_args(argv)
    quiet()
    n = args.opportunities
    rows: list[tuple[str, dict[str, Any]]] = []
    seeding: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-million-") as tmp, \
            postgres_urls(args.postgres or args.postgres_only) as pg:
        work = Path(tmp)
        backends = [] if args.postgres_only else [
            ("SQLite", lambda name: f"sqlite:///{work / name}.db")]
        if pg is not None:
            backends.append(("PostgreSQL", lambda name: upgraded(pg.create_database())))
        for backend, url in backends:
            if args.only != "cycle":
                with seeded(work / f"org-b-{backend}", n, args.fresh) as (org, took):
                    seeding.append(took)
                    result = measured(org, "backfill", child_env(org, url("backfill")), args,
                                      args.profile_backfill if backend == "SQLite" else None)
                    rows.append((f"(a) backfill, {backend}", result))
            if args.only == "backfill":
                continue
            with seeded(work / f"org-c-{backend}", n, args.fresh) as (org, took):
                seeding.append(took)
                env = child_env(org, url("cycle"))
                first = measured(org, "cycle", env, args,
                                 args.profile_first_cycle if backend == "SQLite" else None)
                rows.append((f"(b) first cycle, {backend}", first))
                if backend != "SQLite":
                    continue
                landed, edit_seconds = rep_edits(org, args.edits)
                time.sleep(LOOKBACK_SECONDS + 1)  # the edits' own second is read once
                third = measured(org, "cycle", env, args, args.profile_incremental)
                third["edits"], third["edit_seconds"] = landed, edit_seconds
                rows.append((f"(c) incremental cycle after {landed:,} rep edits", third))
    return report(n, rows, seeding)


def report(n: int, rows: list[tuple[str, dict[str, Any]]], seeding: list[float]) -> int:
    load = os.getloadavg()
    print(f"{n:,} Opportunities, local org without latency; seeding took "
          + ", ".join(f"{s:.0f} s" for s in seeding)
          + f"; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    ok = True
    header = ("run", "exit", "API calls", "target (2 x floor)", "wall", "CPU", "peak RSS",
              "store", "bytes/rec", "Bulk jobs and polls")
    table = [header]
    for label, r in rows:
        records = sum(r["records"].values())
        per_record = r["store_bytes"] / records if records else 0.0
        incremental = label.startswith("(c)")
        calls_ok = incremental or r["calls"] <= 2 * r["floor"]
        rss_ok = r["peak_mb"] < TARGET_PEAK_MB
        size_ok = incremental or per_record <= TARGET_BYTES_PER_RECORD
        ok = ok and r["code"] == 0 and calls_ok and rss_ok and size_ok
        table.append((
            label, str(r["code"]), f"{r['calls']:,}",
            "-" if incremental else
            f"<= {2 * r['floor']} (floor {r['floor']})" + ("" if calls_ok else " MISSED"),
            f"{r['wall']:,.1f} s", f"{r['cpu']:,.1f} s",
            f"{r['peak_mb']:,.0f} MB" + ("" if rss_ok else " MISSED"),
            "-" if incremental else f"{r['store_bytes'] / 1e6:,.0f} MB",
            "-" if incremental else f"{per_record:,.0f}" + ("" if size_ok else " MISSED"),
            r["bulk"]))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    for label, r in rows:
        extra = (f"; {r['edits']:,} edits in {r['edit_seconds']:.1f} s" if "edits" in r else "")
        print(f"{label}: touched {r['touched']:,}; written {r['records']}; "
              f"dead letters {r.get('dead_letters', 0)}; outcome {r['outcome']}; "
              f"the local org's peak RSS so far {r['org_peak_mb']:,.0f} MB"
              f"{' (' + str(r['error']) + ')' if r.get('error') else ''}{extra}")
        print(f"{label}: calls by request: {r['endpoints']}; jobs the upload limit forces "
              f"beyond one per object: {r['forced_jobs']} (CSV uploaded, MB: "
              f"{r.get('uploaded_mb', {})})")
    print(f"targets (issue 14): calls <= 2 x the Bulk floor (5 x (1 read job + 1 job per "
          f"object written + the jobs the 150 MB upload limit forces)), peak RSS < "
          f"{TARGET_PEAK_MB} MB, <= {TARGET_BYTES_PER_RECORD} bytes per synced record; "
          "incremental cycle: calls proportional to the change, seconds of CPU")
    print("targets met" if ok else "TARGET MISSED")
    figures: dict[str, Any] = {"opportunities": n}
    for label, r in rows:
        if "PostgreSQL" not in label:
            key = label[1]  # a, b or c
            figures.update({f"{key}_calls": r["calls"], f"{key}_wall": round(r["wall"], 1),
                            f"{key}_cpu": round(r["cpu"], 1),
                            f"{key}_peak_mb": round(r["peak_mb"]), f"{key}_bulk": r["bulk"]})
    summary("million", NO_LATENCY, **figures)
    for label, r in rows:
        name = f"{n:,} Opportunities: {label[4:]}"
        if r["code"] != 0 or r["outcome"] != "succeeded":  # a run that did not finish met none
            target(f"{name}: completed ({r['outcome']})", NO_LATENCY, 0, 1, at_least=True)
            continue
        if label.startswith("(c)"):
            target(f"{name}: mapsync CPU", NO_LATENCY, r["cpu"], 60, unit="s")
        else:
            records = sum(r["records"].values())
            target(f"{name}: API calls", NO_LATENCY, r["calls"], 2 * r["floor"], unit="calls",
                   floor=r["floor"])
            target(f"{name}: bytes per synced record", NO_LATENCY,
                   r["store_bytes"] / max(records, 1), TARGET_BYTES_PER_RECORD, unit="B")
        target(f"{name}: peak RSS", NO_LATENCY, r["peak_mb"], TARGET_PEAK_MB, unit="MB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
