"""A Bulk 2.0 job's data in files: pages cut across the query's chunks, files gone with the job.

A query job's rows are kept in chunks of 5,000 (``bulk_query.SPOOL_ROWS``), read in a shuffled
chunk order without ORDER BY: a page that spans chunks must still give every row exactly once,
and an ORDER BY query its order across chunk boundaries. A deleted job leaves no files.
"""

from __future__ import annotations

from connectors.emulator import routes_bulk
from connectors.emulator.bulk_query import SPOOL_ROWS
from tests.emulator.bulk_support import BulkClient, accounts, rows_of

ROWS = 2 * SPOOL_ROWS + 345


def _pages(bulk: BulkClient, job_id: str, size: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    locator = ""
    while locator != "null":
        params = {"maxRecords": str(size), **({"locator": locator} if locator else {})}
        r = bulk.call("GET", f"query/{job_id}/results", params=params)
        assert r.status_code == 200, r.text
        page = rows_of(r.text)
        assert int(r.headers["Sforce-NumberOfRecords"]) == len(page)
        rows += page
        locator = r.headers["Sforce-Locator"]
    return rows


def test_pages_across_chunks_give_every_row_once(emulator, bulk):
    ids = accounts(emulator, ROWS)
    job = bulk.query("SELECT Id, Name FROM Account")
    rows = _pages(bulk, job["id"], 4_001)
    assert sorted(r["Id"] for r in rows) == sorted(i[:18] for i in ids)
    assert [r["Name"] for r in rows] != sorted(r["Name"] for r in rows)  # no order promised


def test_an_ordered_query_keeps_its_order_across_chunks(emulator, bulk):
    accounts(emulator, ROWS)
    job = bulk.query("SELECT Name FROM Account ORDER BY Name DESC")
    names = [r["Name"] for r in _pages(bulk, job["id"], 3_333)]
    assert names == sorted((f"Account {i:05d}" for i in range(ROWS)), reverse=True)


def test_a_deleted_job_leaves_no_files(emulator, bulk):
    accounts(emulator, 10)
    query = bulk.query("SELECT Id FROM Account")
    ingest = bulk.ingest("Account", "insert", "Name\nOne\nTwo\n")
    folders = [emulator.org.bulk_dir / job["id"] for job in (query, ingest)]
    assert all(any(folder.iterdir()) for folder in folders)
    for job, kind in ((query, "query"), (ingest, "ingest")):
        assert bulk.call("DELETE", f"{kind}/{job['id']}").status_code == 204
    assert not any(folder.exists() for folder in folders)


def test_an_upload_over_the_limit_is_refused_and_leaves_the_job_open(emulator, bulk,
                                                                      monkeypatch):
    monkeypatch.setattr(routes_bulk, "MAX_UPLOAD_BASE64_BYTES", 1_000)
    job = bulk.create_ingest("Account", "insert")
    big = "Name\n" + "".join(f"Account {n:05d}\n" for n in range(200))
    r = bulk.call("PUT", f"ingest/{job['id']}/batches", data=big.encode(),
                  headers={"Content-Type": "text/csv"})
    assert (r.status_code, r.json()[0]["errorCode"]) == (413, "INVALIDJOB")
    assert [p.name for p in (emulator.org.bulk_dir / job["id"]).iterdir()] == []
    small = bulk.call("PUT", f"ingest/{job['id']}/batches", data=b"Name\nOne\n",
                      headers={"Content-Type": "text/csv"})
    assert small.status_code == 201, small.text
