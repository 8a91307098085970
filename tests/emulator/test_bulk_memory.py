"""A Bulk job's size costs the local org disk, not memory.

A backfill sends one ingest job of millions of rows and reads back a query job of as many:
the org (run here in its own process, its database on disk, so the process's peak resident
memory is the org's alone) must hold a batch at a time, whatever the job's size. The test
reads the org process's ``VmHWM`` (its peak resident set) before and after.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROWS = 200_000
DESCRIPTION = "d" * 300  # ~60 MB of CSV across the job
GROWTH_LIMIT_MB = 80

ORG = """
import json, sys
from pathlib import Path
from connectors.emulator.server import Emulator
with Emulator(state_dir=Path(sys.argv[1]), seed="empty") as em:
    em.org.access.make_admin(em.org.integration_user_id)
    print(json.dumps({"url": em.instance_url, "ca": str(em.ca_file),
                      "token": em.access_token()}), flush=True)
    sys.stdin.read()
"""


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def org_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    proc = subprocess.Popen([sys.executable, "-c", ORG, str(tmp_path / "org")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc, json.loads(proc.stdout.readline())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


class Jobs:
    def __init__(self, info: dict[str, Any]) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = info["ca"]
        self.session.headers["Authorization"] = "Bearer " + info["token"]
        self.base = f"{info['url']}/services/data/v59.0/jobs"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        r = self.session.request(method, f"{self.base}/{path}", timeout=120, **kw)
        assert r.status_code < 300, r.text
        return r

    def wait(self, kind: str, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 600
        while (info := self.call("GET", f"{kind}/{job_id}").json())["state"] not in (
                "JobComplete", "Failed", "Aborted"):
            assert time.monotonic() < deadline, info
            time.sleep(0.2)
        return dict(info)

    def insert(self, text: bytes) -> dict[str, Any]:
        job = self.call("POST", "ingest", json={"object": "Account", "operation": "insert",
                                                "contentType": "CSV"}).json()
        self.call("PUT", f"ingest/{job['id']}/batches", data=text,
                  headers={"Content-Type": "text/csv"})
        self.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
        return self.wait("ingest", job["id"])

    def query(self, soql: str) -> tuple[dict[str, Any], int]:
        job = self.call("POST", "query", json={"operation": "query", "query": soql}).json()
        info = self.wait("query", job["id"])
        rows, locator = 0, None
        while locator != "null":
            params = {"maxRecords": "50000", **({"locator": locator} if locator else {})}
            page = self.call("GET", f"query/{job['id']}/results", params=params)
            rows += int(page.headers["Sforce-NumberOfRecords"])
            locator = page.headers["Sforce-Locator"]
        return info, rows


def _accounts(first: int, count: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Name", "Description"])
    w.writerows([f"Account {n:07d}", DESCRIPTION] for n in range(first, first + count))
    return out.getvalue().encode()


@pytest.mark.slow
def test_a_large_bulk_job_keeps_the_org_s_memory_bounded(org_process):
    proc, info = org_process
    jobs = Jobs(info)
    assert jobs.insert(_accounts(0, 1_000))["numberRecordsProcessed"] == 1_000  # warm up
    jobs.query("SELECT Id, Name, Description FROM Account")
    before = _peak_mb(proc.pid)

    done = jobs.insert(_accounts(1_000, ROWS))
    assert (done["state"], done["numberRecordsProcessed"]) == ("JobComplete", ROWS)
    ok = jobs.call("GET", f"ingest/{done['id']}/successfulResults")
    assert ok.text.count("\n") == ROWS + 1
    del ok
    queried, rows = jobs.query("SELECT Id, Name, Description FROM Account")
    assert queried["numberRecordsProcessed"] == rows == ROWS + 1_000

    growth = _peak_mb(proc.pid) - before
    assert growth < GROWTH_LIMIT_MB, f"the org's peak memory grew {growth:.0f} MB"
