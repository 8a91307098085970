"""``make bench``: every ``bench_*.py`` here, each in its own process (so peak memory is its own).

Each benchmark module prints its own table; this runner orders them, runs every bench that
takes ``--profile`` (``profiles.py``) once per profile — flat 50 ms, then realistic — and
ends with the ``SUMMARY`` lines the benches printed, one row per bench and profile, then one
row per target the benches measured (``TARGET`` lines: measured vs target, the Bulk floor beside
each call count) with the machine's load average when the run started and ended (the machine
may be shared: a loaded one slows wall times, not call counts), and the benches that failed.

    python -m tests.benchmarks.run [NAME ...] [--profile flat,realistic] [--time-scale X]

``NAME`` picks benches by part of their name (``planner connector``).
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

from tests.benchmarks.profiles import PROFILES, SUMMARY, TARGET


def takes_profile(module: Path) -> bool:
    return "add_profile_arguments" in module.read_text(encoding="utf-8")


def run_one(name: str, extra: list[str], summaries: list[dict[str, Any]],
            targets: list[dict[str, Any]]) -> int:
    """Run one bench, echoing its output and keeping its SUMMARY and TARGET lines; its exit
    code."""
    child = subprocess.Popen([sys.executable, "-m", f"tests.benchmarks.{name}", *extra],
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    assert child.stdout is not None
    for line in child.stdout:
        print(line, end="", flush=True)
        if line.startswith(SUMMARY):
            summaries.append(json.loads(line[len(SUMMARY):]))
        elif line.startswith(TARGET):
            targets.append(json.loads(line[len(TARGET):]))
    return child.wait()


def print_summaries(summaries: list[dict[str, Any]]) -> None:
    if not summaries:
        return
    print(f"\n{'bench':<12} {'profile':<16} figures")
    for entry in summaries:
        figures = "; ".join(f"{k} {v}" for k, v in entry.items()
                            if k not in ("bench", "profile"))
        print(f"{entry['bench']:<12} {entry['profile']:<16} {figures}")


def _number(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    return f"{text} {unit}".strip()


def print_targets(targets: list[dict[str, Any]], load: tuple[str, str]) -> None:
    if not targets:
        return
    print(f"\ntargets (load average at start {load[0]}, at end {load[1]})")
    rows = [("target", "profile", "measured", "target", "floor", "")]
    for t in targets:
        goal = ("\u2265 " if t["at_least"] else "\u2264 ") + _number(t["goal"], t["unit"])
        floor = _number(t["floor"], t["unit"]) if t.get("floor") is not None else "-"
        rows.append((t["target"], t["profile"], _number(t["measured"], t["unit"]), goal, floor,
                     "met" if t["met"] else "MISSED"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--profile", default=",".join(PROFILES),
                        help="profiles to run the profiled benches under (default: all)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="time scale of the realistic profile (default 1: real time)")
    args = parser.parse_args(argv)
    profiles = [p for p in args.profile.split(",") if p]
    unknown = sorted(set(profiles) - set(PROFILES))
    if unknown:
        parser.error(f"unknown profile {', '.join(unknown)}: choose from {', '.join(PROFILES)}")
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    if args.names:
        names = [n for n in names if any(a in n for a in args.names)]
    failed, summaries, targets = [], [], []
    load_at_start = load_average()
    for name in names:
        runs = ([["--profile", p, "--time-scale", str(args.time_scale)] for p in profiles]
                if takes_profile(here / f"{name}.py") else [[]])
        for extra in runs:
            label = f"{name} [{extra[1]}]" if extra else name
            print(f"\n=== {label} ===", flush=True)
            start = time.perf_counter()
            rc = run_one(name, extra, summaries, targets)
            print(f"--- {label}: exit {rc}, {time.perf_counter() - start:.1f} s", flush=True)
            if rc:
                failed.append(label)
    print_summaries(summaries)
    print_targets(targets, (load_at_start, load_average()))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
