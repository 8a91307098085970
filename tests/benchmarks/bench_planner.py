"""Planner throughput: how many Opportunities one core can plan per second.

A full backfill of a large org plans every open Opportunity in one go, so the planner must not
be the bottleneck next to Salesforce's API. This generates Opportunities across stages, close
dates, amounts and contact roles, plans each one from scratch (new plans), then plans them again
from what the first pass wrote (the steady state of every sync cycle), and prints plans per
second and peak memory. Target: 100,000 plans in under 10 s.

    python -m tests.benchmarks.bench_planner [--count N] [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import time
from decimal import Decimal
from pathlib import Path

from mappings.model import StageMapping
from sync.calendar import BusinessCalendar
from sync.plan import DesiredPlan, Opportunity, PlanState, state_after_writing
from sync.planner import plan
from tests.planner.sample_mapping import sample_mapping

TODAY = dt.date(2026, 11, 20)
ROLES = ("Economic Buyer", "Champion", "Legal", "Security", "Procurement")
DEFAULT_MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "default.yaml"


def load_mapping() -> tuple[StageMapping, str]:
    """The shipped default mapping when it loads, else the tests' sample mapping."""
    if DEFAULT_MAPPING.exists():
        try:
            from mappings.loader import load_mapping as load

            return load(DEFAULT_MAPPING), str(DEFAULT_MAPPING.relative_to(Path.cwd()))
        except Exception as err:  # report and fall back: the benchmark measures the planner
            print(f"(default mapping not usable: {err}; using the sample mapping)")
    return sample_mapping(), "tests/planner/sample_mapping.py"


def opportunities(mapping: StageMapping, count: int, seed: int) -> list[Opportunity]:
    rng = random.Random(seed)
    first = mapping.stages.index(mapping.create_at)
    stages = mapping.stages[first:]
    out = []
    for n in range(count):
        roles = tuple((r, f"003{n:012d}{i}AA") for i, r in enumerate(ROLES) if rng.random() < 0.6)
        out.append(Opportunity(
            id=f"006{n:012d}AAA",
            name=f"Opportunity {n}",
            stage=rng.choice(stages),
            close_date=TODAY + dt.timedelta(days=rng.randint(-60, 365)),
            amount=Decimal(rng.choice((15_000, 40_000, 90_000, 150_000, 600_000))),
            type=rng.choice(("New Business", "Existing Business")),
            contact_roles=roles,
        ))
    return out


def timed_pass(
    opps: list[Opportunity],
    states: list[PlanState | None],
    mapping: StageMapping,
    calendar: BusinessCalendar,
    today: dt.date,
) -> tuple[float, float, list[DesiredPlan | None]]:
    start, cpu = time.perf_counter(), time.process_time()
    results = [plan(o, s, mapping, calendar, today) for o, s in zip(opps, states, strict=True)]
    return time.perf_counter() - start, time.process_time() - cpu, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    mapping, source = load_mapping()
    calendar = BusinessCalendar.from_spec(mapping.calendar)
    opps = opportunities(mapping, args.count, args.seed)

    rows = []
    seconds, cpu, first = timed_pass(opps, [None] * len(opps), mapping, calendar, TODAY)
    rows.append(("new plans", sum(p is not None for p in first), seconds, cpu))
    written = [state_after_writing(p) if p is not None else None for p in first]
    later = TODAY + dt.timedelta(days=1)
    seconds, cpu, again = timed_pass(opps, written, mapping, calendar, later)
    rows.append(("re-plan next day", sum(p is not None for p in again), seconds, cpu))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"planner benchmark: {args.count:,} opportunities, mapping {source}")
    print(f"{'pass':<18} {'plans':>9} {'seconds':>9} {'cpu s':>7} {'plans/s':>10}")
    for label, plans, secs, cpu in rows:
        print(f"{label:<18} {plans:>9,} {secs:>9.2f} {cpu:>7.2f} {plans / secs:>10,.0f}")
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
