"""A Bulk ingest job that ends Failed part way (the ``bulk_fail_after`` knob): the rows
processed are written and reported, the others come back in ``unprocessedrecords``."""

from __future__ import annotations

from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import BulkClient, rows_of


def test_ingest_job_failed_part_way_reports_processed_and_unprocessed_rows(emulator: Emulator):
    emulator.org.set_knobs(bulk_fail_after=3)
    bulk = BulkClient(emulator)
    lines = ["Name,NumberOfEmployees", "One,1", ",2", "Three,3", "Four,4", "Five,5"]
    job = bulk.ingest("Account", "insert", "\n".join(lines) + "\n")
    assert job["state"] == "Failed"
    assert "after processing 3 of 5 records" in job["errorMessage"]
    assert (job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (3, 1)
    done = bulk.results(job["id"], "successfulResults")
    failed = bulk.results(job["id"], "failedResults")
    assert [r["Name"] for r in done] == ["One", "Three"]
    assert [r["NumberOfEmployees"] for r in failed] == ["2"]
    unprocessed = rows_of(bulk.call("GET", f"ingest/{job['id']}/unprocessedrecords/").text)
    assert [r["Name"] for r in unprocessed] == ["Four", "Five"]
    names = {r["Name"] for r in bulk_query_names(bulk)}
    assert names == {"One", "Three"}


def bulk_query_names(bulk: BulkClient) -> list[dict[str, str]]:
    job = bulk.query("SELECT Name FROM Account")
    return rows_of(bulk.call("GET", f"query/{job['id']}/results").text)


def test_knob_off_or_above_the_row_count_completes_the_job(emulator: Emulator):
    emulator.org.set_knobs(bulk_fail_after=10)
    job = BulkClient(emulator).ingest("Account", "insert", "Name\nA\nB\n")
    assert (job["state"], job["numberRecordsProcessed"]) == ("JobComplete", 2)
