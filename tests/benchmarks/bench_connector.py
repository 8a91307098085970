"""Connector cost: API calls and wall time to read and write at scale, beside Salesforce's floor.

The daily API allowance, not CPU, bounds how much a sync can do, so the figure that matters is
calls per record. This reads 100,000 Opportunities (REST paging through ``queryAll``, then a
Bulk API 2.0 query job) and upserts 20,000 plans (sObject Collections, then a Bulk 2.0 ingest
job) against the local org (flat 50 ms per call, or the realistic profile), and prints each
method's calls and wall time beside the floor (and the polls each Bulk job took): ⌈N/2000⌉
calls for a read, ⌈N/200⌉ for a Collections write, a constant handful for a Bulk job.
Target: REST and Collections within 5% of their floor.
A further row writes milestones 12 to a plan with the plan as group key: whole plans per request
(192 of 200 slots) is the price of never splitting a plan's children, shown, not targeted.

    python -m tests.benchmarks.bench_connector [--opportunities N] [--records N]
                                               [--profile flat|realistic] [--latency-ms N]
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from pydantic import SecretStr

from config.errors import MapsyncError
from config.settings import Settings
from connectors.emulator.server import Emulator
from connectors.salesforce import SalesforceClient
from tests.benchmarks.profiles import (
    BenchProfile,
    add_profile_arguments,
    polls_per_job,
    profile_of,
    summary,
)

READ_SOQL = "SELECT Id, Name, StageName, CloseDate, AccountId, SystemModstamp FROM Opportunity"
TARGET_OVER_FLOOR = 0.05


@dataclass
class Figure:
    """One measured operation."""

    operation: str
    method: str
    records: int
    calls: int
    org_calls: int
    seconds: float
    floor: int | None
    note: str = ""
    bulk: str = ""  # the Bulk jobs and polls the org counted

    @property
    def over_floor(self) -> float | None:
        if not self.floor:
            return None
        return (self.calls - self.floor) / self.floor


def measure(client: SalesforceClient, org: Emulator, operation: str, method: str,
            floor: Callable[[int], int | None], run: Callable[[], int]) -> Figure:
    calls, org_calls = client.usage.calls, org.api_calls
    tally = org.org.bulk_tally.snapshot()
    started = time.perf_counter()
    try:
        records = run()
    except MapsyncError as err:
        return Figure(operation, method, 0, client.usage.calls - calls,
                      org.api_calls - org_calls, time.perf_counter() - started, None,
                      f"not measured: {err}"[:110])
    return Figure(operation, method, records, client.usage.calls - calls,
                  org.api_calls - org_calls, time.perf_counter() - started, floor(records),
                  bulk=polls_per_job(tally, org.org.bulk_tally.snapshot()))


def plans(opportunity_ids: list[str]) -> list[dict[str, Any]]:
    return [{"External_Id__c": opp, "Opportunity__c": opp, "Name": f"Plan {n}",
             "Status__c": "Active", "Template__c": "enterprise"}
            for n, opp in enumerate(opportunity_ids)]


def run(opportunities: int, records: int, profile: BenchProfile) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-connector-") as keys:
        print(f"seeding a local org with {opportunities:,} Opportunities…", flush=True)
        started = time.perf_counter()
        with Emulator(seed="demo", opportunities=opportunities, keys_dir=Path(keys),
                      **profile.emulator_kwargs()) as org:
            print(f"  ready in {time.perf_counter() - started:.1f} s", flush=True)
            settings = Settings(_env_file=None, sf_login_url=org.login_url,
                                sf_client_id=org.client_id,
                                sf_client_secret=SecretStr(org.client_secret),
                                sf_ca_bundle=org.ca_file, sf_bulk_poll_seconds=0.5)
            client = SalesforceClient(settings)
            client.connect()
            ids: list[str] = []

            def rest_read() -> int:
                ids.extend(row["Id"] for row in client.query_all(READ_SOQL))
                return len(ids)

            def bulk_read() -> int:
                return sum(1 for _ in client.bulk_query(READ_SOQL, include_deleted=True,
                                                        max_records=50_000))

            def collections_write() -> int:
                results = client.upsert("Mutual_Action_Plan__c", "External_Id__c",
                                        plans(ids[:records]))
                plan_ids.extend(r.id for r in results if r.id)
                failed = [r for r in results if not r.success]
                if failed:
                    raise MapsyncError(f"{len(failed)} plans failed: {failed[0].message}")
                return len(results)

            plan_ids: list[str] = []

            def grouped_write() -> int:
                per_plan = 12
                rows = [{"External_Id__c": f"{opp}:m{m}", "Plan__c": plan, "Name": f"Step {m}",
                         "Status__c": "Not Started", "Sequence__c": m}
                        for opp, plan in zip(ids, plan_ids[:-(-records // per_plan)],
                                             strict=False)
                        for m in range(per_plan)][:records]
                results = client.upsert("MAP_Milestone__c", "External_Id__c", rows,
                                        group_key="Plan__c")
                failed = [r for r in results if not r.success]
                if failed:
                    raise MapsyncError(f"{len(failed)} milestones failed: {failed[0].message}")
                return len(results)

            def bulk_write() -> int:
                results = client.bulk_upsert("Mutual_Action_Plan__c", "External_Id__c",
                                             plans(ids[records:2 * records]))
                failed = [r for r in results if not r.success]
                if failed:
                    raise MapsyncError(f"{len(failed)} plans failed: {failed[0].message}")
                return len(results)

            def read_floor(n: int) -> int:
                return math.ceil(n / 2000)

            def write_floor(n: int) -> int:
                return math.ceil(n / 200)

            def no_floor(n: int) -> None:
                return None

            return [
                measure(client, org, f"read {opportunities:,} Opportunities", "REST queryAll",
                        read_floor, rest_read),
                measure(client, org, f"read {opportunities:,} Opportunities", "Bulk 2.0 query",
                        no_floor, bulk_read),
                measure(client, org, f"upsert {records:,} plans", "Collections",
                        write_floor, collections_write),
                measure(client, org, f"upsert {records:,} milestones, 12/plan",
                        "Collections+group", write_floor, grouped_write),
                measure(client, org, f"upsert {records:,} plans", "Bulk 2.0 ingest",
                        no_floor, bulk_write),
            ]


def report(figures: list[Figure], profile: BenchProfile) -> bool:
    print(f"\nprofile {profile.label}; calls = counted by the client "
          "(org = counted by the local org)")
    header = (f"{'operation':<34} {'method':<17} {'records':>8} {'calls':>6} {'org':>6} "
              f"{'floor':>6} {'over':>7} {'seconds':>8} {'rec/s':>8}")
    print(header)
    print("-" * len(header))
    met = True
    for f in figures:
        over = f"{f.over_floor:+.1%}" if f.over_floor is not None else "-"
        floor = str(f.floor) if f.floor is not None else "const"
        rate = f"{f.records / f.seconds:,.0f}" if f.seconds and f.records else "-"
        print(f"{f.operation:<34} {f.method:<17} {f.records:>8,} {f.calls:>6} {f.org_calls:>6} "
              f"{floor:>6} {over:>7} {f.seconds:>8.2f} {rate:>8}"
              + "".join(f"  {n}" for n in (f.bulk if "Bulk" in f.method else "", f.note)
                        if n))
        if (f.over_floor is not None and f.over_floor > TARGET_OVER_FLOOR
                and "group" not in f.method):
            met = False
        if f.note and f.floor is None and "Bulk" not in f.method:
            met = False
    print(f"\ntarget (REST and Collections within {TARGET_OVER_FLOOR:.0%} of the floor): "
          f"{'met' if met else 'MISSED'}")
    return met


def main() -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=20_000)
    add_profile_arguments(parser)
    args = parser.parse_args()
    profile = profile_of(args)
    if 2 * args.records > args.opportunities:
        parser.error("--records may be at most half of --opportunities (two write passes)")
    figures = run(args.opportunities, args.records, profile)
    met = report(figures, profile)
    summary("connector", profile, **{f"{f.method} s": round(f.seconds, 1) for f in figures},
            **{f"{f.method} calls": f.calls for f in figures},
            bulk_polls=[f.bulk for f in figures if "Bulk" in f.method])
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
