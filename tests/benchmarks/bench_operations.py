"""Operations cost: a large backfill and an idle worker, in API calls, wall time and memory.

1. A backfill of 100,000 Opportunities against the local org (flat 50 ms per call, or the
   realistic profile), run as ``mapsync backfill --yes`` in its own process (the org in
   another, so the peak memory is the backfill's own): API calls beside the Bulk floor, the
   Bulk jobs and polls the org counted, wall time, peak RSS.
   Target: peak memory under 500 MB (the selection is streamed, never held whole).
   The Bulk floor is what one Bulk 2.0 query job and one ingest job per written object
   would cost: a constant handful each, whatever N is.
2. An idle worker (nothing changing in Salesforce): API calls per cycle (each run records its
   own), and per hour at the default 120-second interval. Target: one call per cycle. The
   org's own count over the window is shown beside it (a cycle in flight at either end of
   the window makes it differ by one or two).

    python -m tests.benchmarks.bench_operations [--opportunities N] [--batch-size N]
                                                [--idle-seconds S] [--profile flat|realistic]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from config.settings import load_settings
from connectors.salesforce import SalesforceClient
from sync.jobs.backfill import DEFAULT_BATCH_SIZE
from tests.benchmarks.profiles import (
    BenchProfile,
    OrgProcess,
    add_profile_arguments,
    polls_per_job,
    profile_of,
    summary,
    target,
)

MAPSYNC = str(Path(sys.executable).with_name("mapsync"))
BULK_JOB_FLOOR = 5  # create, upload, close, one poll, results
TARGET_PEAK_MB = 500
DEFAULT_INTERVAL = 120


def start_org(state: Path, opportunities: int, profile: BenchProfile) -> OrgProcess:
    return OrgProcess(state, profile, seed="empty", opportunities=opportunities,
                      daily_api_limit=10_000_000)


def org_usage(env: dict[str, str]) -> int:
    """The org's API requests used today (this query itself counted out)."""
    client = SalesforceClient(load_settings(**{k.lower(): v for k, v in env.items()}))
    daily = client.limits()["DailyApiRequests"]
    return int(daily["Max"]) - int(daily["Remaining"]) - 1


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Exit code, wall seconds and peak RSS (MB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024


def bench_backfill(opportunities: int, profile: BenchProfile,
                   batch_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ops-") as tmp, \
            start_org(Path(tmp) / "org", opportunities, profile) as org:
        env = {**os.environ, **org.env, "DATABASE_URL": f"sqlite:///{tmp}/m.db",
               "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING"}
        before, tally = org_usage(env), org.tally()
        code, seconds, peak_mb = run_measured(
            [MAPSYNC, "backfill", "--yes", "--batch-size", str(batch_size)], env)
        calls = org_usage(env) - before - 1
        bulk = polls_per_job(tally, org.tally())
    return {"code": code, "seconds": seconds, "peak_mb": peak_mb, "calls": calls,
            "floor": 4 * BULK_JOB_FLOOR, "bulk": bulk}


def bench_idle(idle_seconds: float, interval: float, profile: BenchProfile) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp, \
            start_org(Path(tmp) / "org", 200, profile) as org:
        env = {**os.environ, **org.env, "DATABASE_URL": f"sqlite:///{tmp}/m.db",
               "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
        log = Path(tmp) / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [MAPSYNC, "worker", "--interval", str(interval), "--no-reconcile",
                 "--heartbeat", "1", "--lease-ttl", "10"], env=env, stdout=out,
                stderr=subprocess.STDOUT)
            # the first, full cycle lands first (seconds under the realistic profile)
            deadline = time.monotonic() + 600
            while not finished_runs(log) and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(max(interval * 3, 5))
            before, skip = org_usage(env), len(finished_runs(log))
            time.sleep(idle_seconds)
            after = org_usage(env) - 1
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            idle = finished_runs(log)[skip:]
    cycles = max(len(idle), 1)
    per_cycle = sum(int(r.get("api_calls", 0)) for r in idle) / cycles
    return {"cycles": cycles, "calls": after - before, "per_cycle": per_cycle,
            "per_hour": per_cycle * 3600 / DEFAULT_INTERVAL}


def finished_runs(log: Path) -> list[dict[str, Any]]:
    """The worker's "run finished" log lines (each with the run's own API calls)."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "run finished":
            out.append(entry)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--idle-seconds", type=float, default=20)
    add_profile_arguments(parser)
    args = parser.parse_args(argv)
    profile = profile_of(args)

    idle = bench_idle(args.idle_seconds, 1.0, profile)
    backfill = bench_backfill(args.opportunities, profile, args.batch_size)
    ok_memory = backfill["peak_mb"] < TARGET_PEAK_MB and backfill["code"] == 0
    ok_idle = idle["per_cycle"] <= 1.0
    rows = [
        ("measure", "figure", "target"),
        (f"backfill {args.opportunities:,} opps, profile {profile.label}, "
         f"batch {args.batch_size:,}: exit", str(backfill["code"]), "0"),
        ("  API calls", f"{backfill['calls']:,}",
         f"<= {2 * backfill['floor']} (2 x the Bulk floor ~{backfill['floor']}: one job "
         "per step)" + ("" if backfill["calls"] <= 2 * backfill["floor"] else ": MISSED")),
        ("  Bulk jobs and polls (the org's count)", backfill["bulk"], "-"),
        ("  wall time", f"{backfill['seconds']:,.0f} s", "-"),
        ("  rate", f"{args.opportunities / backfill['seconds']:,.0f} opps/s", "-"),
        ("  peak memory (backfill process)", f"{backfill['peak_mb']:,.0f} MB",
         f"< {TARGET_PEAK_MB} MB"),
        (f"idle worker: {idle['cycles']} cycles, calls seen by the org", f"{idle['calls']}",
         "-"),
        ("  calls per cycle (the runs' own count)", f"{idle['per_cycle']:.2f}", "1"),
        (f"  calls per hour at {DEFAULT_INTERVAL} s interval", f"{idle['per_hour']:.0f}",
         f"{3600 // DEFAULT_INTERVAL}"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print("targets met" if ok_memory and ok_idle else "TARGET MISSED")
    target(f"backfill, {args.opportunities:,} Opportunities: API calls", profile,
           backfill["calls"], 2 * backfill["floor"], unit="calls", floor=backfill["floor"])
    target(f"backfill, {args.opportunities:,} Opportunities: peak RSS", profile,
           round(backfill["peak_mb"]), TARGET_PEAK_MB, unit="MB")
    summary("operations", profile, backfill_calls=backfill["calls"],
            backfill_seconds=round(backfill["seconds"]), backfill_bulk=backfill["bulk"],
            peak_mb=round(backfill["peak_mb"]), idle_calls_per_cycle=idle["per_cycle"])
    return 0 if ok_memory and ok_idle else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
