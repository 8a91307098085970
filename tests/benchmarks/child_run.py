"""One mapsync run (a backfill or a cycle) in its own process, so its peak RSS is its own.

The peak is the child's ``VmHWM`` read by the child itself at the end: ``ru_maxrss`` of a
child started by ``fork`` + ``exec`` keeps the high-water mark of the parent's image it was
forked from (Linux carries it across ``exec``), so a child of a large process (a test run
hosting the local org) would report the parent's size instead of its own.

``run_child`` starts ``python -m tests.benchmarks.child_run KIND`` with the settings in the
environment (as ``mapsync backfill --yes`` or ``mapsync sync --once`` would read them), and
returns what the run reported beside the process's peak RSS. Used by
``bench_million.py`` and by the memory-growth test
(``tests/operations/test_memory_growth.py``), which compares the peak of the same run at two
sizes of org.

    python -m tests.benchmarks.child_run backfill|cycle [--batch-size N] [--profile-to FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULT = "RESULT "
KINDS = ("backfill", "cycle")


def run_child(kind: str, env: dict[str, str], batch_size: int,
              profile_to: Path | None = None) -> dict[str, Any]:
    """Run one ``kind`` in a child process: its figures (``records`` written by object,
    ``cpu`` and ``wall`` seconds of the run itself, ``store_bytes`` the store grew by on
    disk, ``peak_mb`` the process's ``VmHWM``) and its exit ``code``."""
    argv = [sys.executable, "-m", "tests.benchmarks.child_run", kind,
            "--batch-size", str(batch_size)]
    if profile_to:
        argv += ["--profile-to", str(profile_to)]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    lines = [line for line in out.splitlines() if line.startswith(RESULT)]
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT):]) if lines else {
        "outcome": "crashed", "error": out[-300:], "records": {}, "cpu": 0.0, "wall": 0.0,
        "store_bytes": 0, "touched": 0}
    result.setdefault("peak_mb", usage.ru_maxrss / 1024)  # a crashed child: an upper bound
    result.update(code=os.waitstatus_to_exitcode(status),
                  process_seconds=time.perf_counter() - started)
    return result


# Rows per Bulk query result page of a streamed first cycle (``first_cycle.PAGE_ROWS``, a
# bounded 100,000): a test whose orgs are smaller than one page sets it smaller, so the page
# read is the same at both of its sizes, as it is for any org past 100,000 Opportunities.
PAGE_ROWS_ENV = "BENCH_FIRST_CYCLE_PAGE_ROWS"


def run(kind: str, batch_size: int, profile_to: str | None) -> dict[str, Any]:
    """Run one backfill or cycle as the CLI would (settings from the environment)."""
    import cProfile

    from sync.cli.runtime import open_runtime
    from sync.cycle import first_cycle, run_cycle
    from sync.jobs.backfill import Backfill
    from sync.jobs.selection import Selection

    if os.environ.get(PAGE_ROWS_ENV):  # a memory test's small org: pages as a large one's
        first_cycle.PAGE_ROWS = int(os.environ[PAGE_ROWS_ENV])
    with open_runtime(log=False) as rt:
        with rt.store.transaction(write=False) as tx:
            empty = sum(tx.table_sizes().values())
        profiler = cProfile.Profile() if profile_to else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        if kind == "backfill":
            report = Backfill(rt.org, Selection(), batch_size=batch_size).run().totals
        else:
            report = run_cycle(rt.org)
        if profiler and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        with rt.store.transaction(write=False) as tx:
            stored = sum(tx.table_sizes().values()) - empty
        backend = rt.store.backend
    return {
        "outcome": report.outcome, "error": report.error, "touched": report.touched,
        "records": {"plans": report.plans_created + report.plans_updated,
                    "milestones": report.milestones_written,
                    "rollups": report.rollups_written, "tasks": report.tasks_written},
        "dead_letters": report.dead_letters, "cpu": cpu, "wall": wall,
        "store_bytes": stored, "backend": backend, "client_calls": report.api_calls,
        "peak_mb": high_water_mb()}


def high_water_mb() -> float:
    """This process's peak RSS since its ``exec`` (``VmHWM``), in MB."""
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    return int(kb) / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--batch-size", type=int, default=4_000)
    parser.add_argument("--profile-to", help="write a cProfile of the run to this file")
    args = parser.parse_args(argv)
    print(RESULT + json.dumps(run(args.kind, args.batch_size, args.profile_to)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
