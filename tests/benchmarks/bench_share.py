"""Buyer plan documents: how fast 1,000 plans render to HTML and PDF, and in what memory.

The share job renders every changed plan of a run; a large org's first share renders them
all. This plans Opportunities with the shipped mapping (the planner, as the sync does), turns
each plan into the rows Salesforce would answer (plan, milestones, contact roles), builds the
buyer's plan, its digest, its HTML and its PDF, and prints wall and CPU seconds per step,
documents per second, average sizes and peak memory: the process's peak RSS with every
document held, and the peak of Python allocations while one step renders a sample of
documents (tracemalloc, in a pass of its own: it slows Python down, so the timed pass runs
without it). Nothing is sent anywhere: rendering is pure.

    python -m tests.benchmarks.bench_share [--count N] [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from mappings.model import StageMapping
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import DesiredPlan
from sync.planner.planner import Planner
from sync.share import SharedPlan, render_html, render_pdf, shared_plan
from tests.benchmarks.bench_planner import TODAY, load_mapping, opportunities


def rows_of(desired: DesiredPlan, name: str, n: int) -> dict[str, Any]:
    """What the share job would read for ``desired`` (values as the REST API answers them)."""
    plan = {k: (v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in desired.fields().items()}
    plan.update(Id=f"a00{n:012d}AAA", Summary__c=f"Why {name} is buying: triage time halved.",
                Resources__c="Security pack | https://example.com/security")
    milestones = []
    for m in desired.milestones:
        row = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in m.fields().items()}
        row["Owner_Contact__r"] = {"Name": f"Contact {n} {m.key}"} if n % 2 else None
        milestones.append(row)
    roles = [{"Role": "Economic Buyer", "IsPrimary": True,
              "Contact": {"Name": f"Buyer {n}", "Email": f"buyer{n}@example.com"}}]
    opportunity = {"Name": name, "CloseDate": plan["Target_Close_Date__c"],
                   "Account": {"Name": f"Account {n}"},
                   "Owner": {"Name": "Dana Seller", "Email": "dana@example.com"}}
    return {"opportunity": opportunity, "plan": plan, "milestones": milestones,
            "contact_roles": roles}


MEMORY_SAMPLE = 20  # documents per step rendered under tracemalloc


def step(label: str, items: list[Any], fn: Callable[[Any], Any],
         table: list[tuple[str, int, float, float, int]]) -> list[Any]:
    start, cpu = time.perf_counter(), time.process_time()
    out = [fn(i) for i in items]
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    tracemalloc.start()
    for item in items[:MEMORY_SAMPLE]:
        fn(item)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    table.append((label, len(items), seconds, cpu_s, peak))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    mapping: StageMapping
    mapping, source = load_mapping()
    planner = Planner(mapping, BusinessCalendar.from_spec(mapping.calendar))
    desired = [(o, planner.plan(o, None, TODAY)) for o in
               opportunities(mapping, args.count * 2, args.seed)]
    plans = [(o, d) for o, d in desired if d is not None][:args.count]
    inputs = [rows_of(d, o.name, n) for n, (o, d) in enumerate(plans)]
    table: list[tuple[str, int, float, float, int]] = []
    documents: list[SharedPlan] = step(
        "build (rows -> plan)", inputs,
        lambda r: shared_plan(**r, seller="Acme", today=TODAY), table)
    step("digest", documents, lambda d: d.digest(), table)
    html = step("HTML", documents, render_html, table)
    pdf = step("PDF", documents, render_pdf, table)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    milestones = sum(len(d.outcomes) for d in documents)

    print(f"share benchmark: {len(documents):,} plans ({milestones:,} milestones), "
          f"mapping {source}")
    print(f"{'step':<22} {'plans':>7} {'seconds':>9} {'cpu s':>7} {'plans/s':>9} "
          f"{'alloc MB':>8}")
    for label, n, seconds, cpu, peak in table:
        print(f"{label:<22} {n:>7,} {seconds:>9.2f} {cpu:>7.2f} {n / seconds:>9,.0f} "
              f"{peak / 2**20:>8.1f}")
    total = sum(row[2] for row in table)
    cpu_total = sum(row[3] for row in table)
    print(f"total {total:.2f} s wall, {cpu_total:.2f} s CPU for {len(documents):,} plans "
          f"(HTML and PDF each); alloc MB: peak Python allocations rendering "
          f"{MEMORY_SAMPLE} documents")
    print(f"average size: HTML {sum(map(len, html)) / len(html) / 1024:.1f} KB, "
          f"PDF {sum(map(len, pdf)) / len(pdf) / 1024:.1f} KB; "
          f"peak RSS {peak_rss:,.0f} MB (whole process, all documents held)")


if __name__ == "__main__":
    main()
