"""The daily Bulk allocations the local org counts and ``/limits`` reports.

Salesforce allows an org 15,000 Bulk batches a day, Bulk API 1.0 and 2.0 together: each 1.0
batch is one, and a 2.0 ingest job is cut into one batch per 10,000 records; Bulk API 2.0
query jobs consume no batch and count apart (10,000 a day). A client that plans a large
backfill reads these in ``/limits`` (``DailyBulkApiBatches``, ``DailyBulkV2QueryJobs``).
"""

from __future__ import annotations

from typing import Any

from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import VERSION, BulkClient
from tests.emulator.test_bulk_v1 import V1, job_xml


def _remaining(bulk: BulkClient, org: Emulator) -> tuple[int, int]:
    limits: dict[str, Any] = bulk.session.get(
        f"{org.instance_url}/services/data/v{VERSION}/limits", timeout=30).json()
    return (limits["DailyBulkApiBatches"]["Remaining"],
            limits["DailyBulkV2QueryJobs"]["Remaining"])


def _names(n: int) -> str:
    return "Name\n" + "".join(f"Allocation {i}\n" for i in range(n))


def test_an_ingest_job_takes_a_batch_per_10000_records_and_a_query_job_none(
        emulator: Emulator) -> None:
    bulk = BulkClient(emulator)
    batches, queries = _remaining(bulk, emulator)
    assert batches <= 15_000
    assert queries <= 10_000

    assert bulk.ingest("Account", "insert", _names(10_001))["state"] == "JobComplete"
    assert _remaining(bulk, emulator) == (batches - 2, queries)

    assert bulk.ingest("Account", "insert", _names(3))["state"] == "JobComplete"
    assert _remaining(bulk, emulator) == (batches - 3, queries)

    assert bulk.query("SELECT Id FROM Account")["state"] == "JobComplete"
    assert _remaining(bulk, emulator) == (batches - 3, queries - 1)


def test_every_bulk_api_1_batch_takes_one_of_the_days_batches(emulator: Emulator) -> None:
    bulk, v1 = BulkClient(emulator), V1(emulator)
    batches, queries = _remaining(bulk, emulator)
    job = v1.xml("POST", "job", job_xml("insert", "Account"), status=201)
    for names in ("Name\nOne\n", "Name\nTwo\nThree\n"):
        batch = v1.xml("POST", f"job/{job['id']}/batch", names, status=201,
                       content="text/csv")
        assert v1.wait(job["id"], batch["id"])["state"] == "Completed"

    assert _remaining(bulk, emulator) == (batches - 2, queries)
