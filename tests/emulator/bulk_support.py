"""Raw Bulk API 2.0 calls against the local org, for tests that check statuses and shapes."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import requests

from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator

VERSION = "59.0"


class BulkClient:
    """A logged-in requests session aimed at ``/services/data/v59.0/jobs``."""

    def __init__(self, org: Emulator) -> None:
        self.session = client_session(org)
        self.session.headers["Authorization"] = "Bearer " + org.access_token()
        self.base = f"{org.instance_url}/services/data/v{VERSION}/jobs"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}/{path}", timeout=30, **kw)

    def create_ingest(self, sobject: str, operation: str, **extra: Any) -> dict[str, Any]:
        r = self.call("POST", "ingest", json={"object": sobject, "operation": operation,
                                               "contentType": "CSV", "lineEnding": "LF",
                                               **extra})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def ingest(self, sobject: str, operation: str, text: str, **extra: Any) -> dict[str, Any]:
        """Create, upload, close and wait: the finished job's JSON."""
        job = self.create_ingest(sobject, operation, **extra)
        put = self.call("PUT", f"ingest/{job['id']}/batches", data=text.encode(),
                        headers={"Content-Type": "text/csv"})
        assert put.status_code == 201, put.text
        close = self.call("PATCH", f"ingest/{job['id']}", json={"state": "UploadComplete"})
        assert close.status_code == 200, close.text
        return self.wait("ingest", job["id"])

    def wait(self, kind: str, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            info = dict(self.call("GET", f"{kind}/{job_id}").json())
            if info["state"] in ("JobComplete", "Failed", "Aborted"):
                return info
            assert time.monotonic() < deadline, info
            time.sleep(0.02)

    def results(self, job_id: str, kind: str) -> list[dict[str, str]]:
        r = self.call("GET", f"ingest/{job_id}/{kind}/")
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(r.text)))

    def query(self, soql: str, operation: str = "query") -> dict[str, Any]:
        r = self.call("POST", "query", json={"operation": operation, "query": soql})
        assert r.status_code == 200, r.text
        return self.wait("query", r.json()["id"])


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def accounts(org: Emulator, n: int) -> list[str]:
    """``n`` Accounts inserted straight into the org's store (named in order): their Ids."""
    account = org.org.schema.objects["Account"]
    return org.org.store.insert_rows(account, [{"Name": f"Account {i:05d}"} for i in range(n)],
                                     org.org.integration_user_id)
