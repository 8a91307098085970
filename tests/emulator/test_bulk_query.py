"""Bulk API 2.0 query jobs in the local org: CSV pages cut by ``Sforce-Locator``.

The CSV must read as Salesforce writes it (quoted cells, empty for null, ``true``/``false``,
Salesforce date and datetime text, parents as dotted columns), pages must cover every row
exactly once, and queryAll must see deleted rows.
"""

from __future__ import annotations

import base64
from typing import Any

from connectors.emulator.pytest_plugin import salesforce_client
from tests.emulator.bulk_support import accounts, rows_of


def test_results_page_by_locator_until_the_locator_is_null(emulator, bulk):
    ids = accounts(emulator, 2500)
    job = bulk.query("SELECT Id, Name FROM Account")
    assert (job["state"], job["jobType"], job["numberRecordsProcessed"]) == \
        ("JobComplete", "V2Query", 2500)
    seen: list[str] = []
    counts: list[int] = []
    locator = ""
    while locator != "null":
        params = {"maxRecords": "1000", **({"locator": locator} if locator else {})}
        page = bulk.call("GET", f"query/{job['id']}/results", params=params)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/csv")
        rows = rows_of(page.text)
        assert page.headers["Sforce-NumberOfRecords"] == str(len(rows))
        counts.append(len(rows))
        seen += [r["Id"] for r in rows]
        locator = page.headers["Sforce-Locator"]
    assert counts == [1000, 1000, 500]
    assert sorted(seen) == sorted(ids)  # every row once, in no particular order


def test_locators_are_opaque_and_a_forged_one_is_refused(emulator, bulk):
    accounts(emulator, 3)
    job = bulk.query("SELECT Id FROM Account")
    first = bulk.call("GET", f"query/{job['id']}/results", params={"maxRecords": "2"})
    assert first.headers["Sforce-Locator"] == base64.b64encode(b"2").decode()
    bad = bulk.call("GET", f"query/{job['id']}/results", params={"locator": "not-a-locator"})
    assert bad.status_code == 400
    assert bad.json()[0]["errorCode"] == "INVALIDLOCATOR"


def test_csv_cells_are_written_as_salesforce_writes_them(emulator, bulk):
    sf: Any = salesforce_client(emulator)
    acc = sf.Account.create({"Name": 'Quote "Q" Ltd, Inc'})["id"]
    opp = sf.Opportunity.create({"Name": "Csv Deal", "AccountId": acc, "StageName": "Prospecting",
                                 "CloseDate": "2027-01-15", "Amount": 1500})["id"]
    job = bulk.query("SELECT Id, Name, Amount, CloseDate, IsClosed, Description, CreatedDate, "
                     "Account.Name FROM Opportunity")
    page = bulk.call("GET", f"query/{job['id']}/results")
    header, line = page.text.splitlines()
    assert header == ('"Id","Name","Amount","CloseDate","IsClosed","Description",'
                      '"CreatedDate","Account.Name"')
    [row] = rows_of(page.text)
    created = sf.Opportunity.get(opp)["CreatedDate"]
    assert row == {"Id": opp, "Name": "Csv Deal", "Amount": "1500.0", "CloseDate": "2027-01-15",
                   "IsClosed": "false", "Description": "", "CreatedDate": created,
                   "Account.Name": 'Quote "Q" Ltd, Inc'}
    assert line.endswith('"Quote ""Q"" Ltd, Inc"')
    assert page.headers["Sforce-Locator"] == "null"


def test_query_all_sees_deleted_rows_and_query_does_not(emulator, bulk):
    sf: Any = salesforce_client(emulator)
    kept, gone = (sf.Account.create({"Name": n})["id"] for n in ("Kept", "Gone"))
    sf.Account.delete(gone)
    live = bulk.query("SELECT Id FROM Account")
    every = bulk.query("SELECT Id, IsDeleted FROM Account", operation="queryAll")
    assert every["operation"] == "queryAll"
    assert [r["Id"] for r in rows_of(bulk.call("GET", f"query/{live['id']}/results").text)] \
        == [kept]
    rows = rows_of(bulk.call("GET", f"query/{every['id']}/results").text)
    assert sorted((r["Id"], r["IsDeleted"]) for r in rows) == \
        sorted([(kept, "false"), (gone, "true")])


def test_simple_salesforce_reads_every_page_of_a_query_job(emulator):
    accounts(emulator, 450)
    sf: Any = salesforce_client(emulator)
    pages = list(sf.bulk2.Account.query("SELECT Id, Name FROM Account", max_records=200,
                                        wait=0.1))
    assert [len(rows_of(p)) for p in pages] == [200, 200, 50]
    all_rows = [r for p in pages for r in rows_of(p)]
    assert len({r["Id"] for r in all_rows}) == 450


def test_a_query_the_org_refuses_fails_job_creation_with_the_soql_error(bulk):
    r = bulk.call("POST", "query", json={"operation": "query",
                                         "query": "SELECT Id, Colour__c FROM Account"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = bulk.call("POST", "query", json={"operation": "query", "query": "SELECT FROM Account"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "MALFORMED_QUERY"
    r = bulk.call("POST", "query", json={"operation": "query", "query": "SELECT Id FROM Nope"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_TYPE"
    r = bulk.call("POST", "query", json={"operation": "search", "query": "SELECT Id FROM User"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALIDJOB"


def test_query_job_is_listed_deleted_and_then_unknown(bulk):
    job = bulk.query("SELECT Id FROM User")
    assert job["id"] in [j["id"] for j in bulk.call("GET", "query").json()["records"]]
    assert bulk.call("GET", f"ingest/{job['id']}").status_code == 404
    assert bulk.call("DELETE", f"query/{job['id']}").status_code == 204
    gone = bulk.call("GET", f"query/{job['id']}/results")
    assert gone.status_code == 404
    assert gone.json()[0]["errorCode"] == "NOT_FOUND"


def test_a_finished_query_job_cannot_be_aborted(bulk):
    job = bulk.query("SELECT Id FROM User")
    r = bulk.call("PATCH", f"query/{job['id']}", json={"state": "Aborted"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALIDJOB"
    r = bulk.call("PATCH", f"query/{job['id']}", json={"state": "Closed"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALIDJOBSTATE"
