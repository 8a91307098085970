"""Local org throughput: is the emulator fast enough to stand in for Salesforce in load tests?

A sync benchmark measured against the local org only says something about mapsync if the org
itself is not the bottleneck. This seeds 100,000 opportunities, then measures over HTTPS, as a
client sees it: Collections upserts (200 records a call, as mapsync pushes), REST query paging
over every opportunity, a Bulk API 2.0 query of the same rows, and a Bulk 2.0 upsert whose rows
name their parent by external id. The org runs in this process; peak memory is this process's
(org + client). Targets: >= 5,000 records/s written, >= 20,000 rows/s read.

    python -m tests.benchmarks.bench_emulator [--opportunities N] [--writes N]
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import time
from collections.abc import Callable
from typing import Any

import requests

from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator

VERSION = "59.0"
WRITE_TARGET, READ_TARGET = 5_000.0, 20_000.0


class Client:
    """A keep-alive HTTPS session logged in to the org."""

    def __init__(self, org: Emulator) -> None:
        self.session = client_session(org)
        self.session.headers["Authorization"] = "Bearer " + org.access_token()
        self.base = f"{org.instance_url}/services/data/v{VERSION}"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        r = self.session.request(method, self.base + path, timeout=600, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r

    def wait(self, path: str) -> dict[str, Any]:
        while True:
            info: dict[str, Any] = self.call("GET", path).json()
            if info["state"] in ("JobComplete", "Failed", "Aborted"):
                if info["state"] != "JobComplete":
                    raise RuntimeError(f"{path}: {info}")
                return info
            time.sleep(0.05)


def timed(work: Callable[[], int]) -> tuple[int, float, float]:
    """(count, wall seconds, CPU seconds of this process: org and client threads)."""
    started, cpu = time.perf_counter(), time.process_time()
    count = work()
    return count, time.perf_counter() - started, time.process_time() - cpu


def opportunity_ids(client: Client, limit: int) -> list[str]:
    page = client.call("GET", "/query",
                       params={"q": f"SELECT Id FROM Opportunity LIMIT {limit}"}).json()
    found = [rec["Id"] for rec in page["records"]]
    while not page["done"]:
        page = client.call("GET", page["nextRecordsUrl"].split(f"/v{VERSION}", 1)[1]).json()
        found += [rec["Id"] for rec in page["records"]]
    return found


def collections_upsert(client: Client, opp_ids: list[str]) -> int:
    """Plans upserted by external id, 200 per call (what mapsync's push does)."""
    for start in range(0, len(opp_ids), 200):
        records = [{"attributes": {"type": "Mutual_Action_Plan__c"}, "External_Id__c": o,
                    "Name": f"Plan {o}", "Opportunity__c": o, "Health__c": "On Track",
                    "Status__c": "Active", "Percent_Complete__c": 10}
                   for o in opp_ids[start:start + 200]]
        results = client.call("PATCH", "/composite/sobjects/Mutual_Action_Plan__c/External_Id__c",
                              json={"allOrNone": False, "records": records}).json()
        failed = [r for r in results if not r["success"]]
        if failed:
            raise RuntimeError(f"Collections upsert failed: {failed[:3]}")
    return len(opp_ids)


def rest_query(client: Client) -> int:
    """Every opportunity through ``query`` and ``nextRecordsUrl`` pages of 2,000."""
    page = client.call("GET", "/query", params={
        "q": "SELECT Id, Name, StageName, CloseDate, Amount, AccountId, SystemModstamp "
             "FROM Opportunity"}).json()
    rows = len(page["records"])
    while not page["done"]:
        path = page["nextRecordsUrl"].split(f"/v{VERSION}", 1)[1]
        page = client.call("GET", path).json()
        rows += len(page["records"])
    return rows


def bulk_query(client: Client) -> int:
    """Every opportunity through a Bulk 2.0 query job, pages cut by Sforce-Locator."""
    job = client.call("POST", "/jobs/query", json={
        "operation": "query", "query": "SELECT Id, Name, StageName, CloseDate, Amount, "
                                       "AccountId, SystemModstamp FROM Opportunity"}).json()
    client.wait(f"/jobs/query/{job['id']}")
    rows, locator = 0, ""
    while locator != "null":
        params = {"maxRecords": "50000", **({"locator": locator} if locator else {})}
        page = client.call("GET", f"/jobs/query/{job['id']}/results", params=params)
        rows += sum(1 for _ in csv.reader(io.StringIO(page.text))) - 1
        locator = page.headers["Sforce-Locator"]
    return rows


def bulk_upsert_milestones(client: Client, opp_ids: list[str]) -> int:
    """Milestones upserted by a Bulk 2.0 job, each naming its plan by external id."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["External_Id__c", "Name", "Key__c", "Sequence__c", "Status__c",
                "Due_Date__c", "Plan__r.External_Id__c"])
    for o in opp_ids:
        w.writerow([f"{o}:kickoff", "Kickoff", "kickoff", 1, "Not Started", "2027-01-15", o])
    job = client.call("POST", "/jobs/ingest", json={
        "object": "MAP_Milestone__c", "operation": "upsert", "contentType": "CSV",
        "externalIdFieldName": "External_Id__c", "lineEnding": "LF"}).json()
    client.call("PUT", f"/jobs/ingest/{job['id']}/batches", data=out.getvalue().encode(),
                headers={"Content-Type": "text/csv"})
    client.call("PATCH", f"/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    info = client.wait(f"/jobs/ingest/{job['id']}")
    if info["numberRecordsFailed"]:
        raise RuntimeError(f"Bulk upsert failed {info['numberRecordsFailed']} rows")
    return int(info["numberRecordsProcessed"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=20_000)
    args = parser.parse_args(argv)

    rows: list[tuple[str, ...]] = []

    def report(name: str, measured: tuple[int, float, float], target: float) -> None:
        count, seconds, cpu = measured
        rate = count / seconds if seconds else float("inf")
        verdict = "ok" if rate >= target else "MISSED"
        rows.append((name, f"{count:,} in {seconds:.2f} s", f"{rate:,.0f}/s",
                     f"{count / cpu if cpu else 0:,.0f}/s", f">= {target:,.0f}/s {verdict}"))

    started = time.perf_counter()
    org = Emulator(seed="empty", opportunities=args.opportunities)
    seeded = time.perf_counter() - started
    rows.append((f"seed {args.opportunities:,} opportunities", f"{seeded:.2f} s", "", "", ""))
    with org:
        client = Client(org)
        opp_ids = opportunity_ids(client, args.writes)
        report("Collections upsert (200/call), new",
               timed(lambda: collections_upsert(client, opp_ids)), WRITE_TARGET)
        report("Collections upsert (200/call), again",
               timed(lambda: collections_upsert(client, opp_ids)), WRITE_TARGET)
        report("Bulk 2.0 upsert, parent by external id",
               timed(lambda: bulk_upsert_milestones(client, opp_ids)), WRITE_TARGET)
        report("REST query, 2,000-row pages", timed(lambda: rest_query(client)), READ_TARGET)
        report("Bulk 2.0 query, 50,000-row pages", timed(lambda: bulk_query(client)),
               READ_TARGET)
        calls = org.api_calls
    rows.append(("API calls counted", f"{calls:,}", "", "", ""))
    rows.append(("peak RSS (org + client)", f"{peak_rss_mb():,.0f} MB", "", "", ""))
    header = ("local org", "measured (wall)", "rate", "rate per CPU s", "target (wall)")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    missed = any("MISSED" in r[-1] for r in rows)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
