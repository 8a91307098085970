"""The recycle bin as Salesforce keeps it: deleted rows stay visible to queryAll for 15 days,
Bulk hardDelete skips the bin, and an Account takes its Contacts and Opportunities (and
their contact roles) with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from tests.emulator.bulk_support import BulkClient, rows_of


@pytest.fixture
def sf(emulator: Emulator) -> Any:
    return salesforce_client(emulator)


def _deleted_ids(sf: Any, sobject: str) -> set[str]:
    return {r["Id"] for r in sf.query_all(
        f"SELECT Id FROM {sobject} WHERE IsDeleted = true", include_deleted=True)["records"]}


def test_deleted_rows_leave_query_all_after_fifteen_days(emulator, sf):
    now = datetime.now(UTC)
    emulator.org.set_clock(lambda: now)
    gone = sf.Account.create({"Name": "Binned"})["id"]
    sf.Account.delete(gone)
    emulator.org.set_clock(lambda: now + timedelta(days=14, hours=23))
    assert _deleted_ids(sf, "Account") == {gone}
    emulator.org.set_clock(lambda: now + timedelta(days=15, seconds=1))
    assert _deleted_ids(sf, "Account") == set()
    bulk = BulkClient(emulator)
    job = bulk.query("SELECT Id FROM Account WHERE IsDeleted = true", operation="queryAll")
    assert rows_of(bulk.call("GET", f"query/{job['id']}/results").text) == []


def test_bulk_hard_delete_removes_rows_at_once(emulator, sf):
    kept, hard = (sf.Account.create({"Name": n})["id"] for n in ("Kept", "Hard"))
    job = BulkClient(emulator).ingest("Account", "hardDelete", f"Id\n{hard}\n")
    assert (job["state"], job["numberRecordsProcessed"], job["numberRecordsFailed"]) == \
        ("JobComplete", 1, 0)
    every = {r["Id"] for r in sf.query_all("SELECT Id FROM Account",
                                           include_deleted=True)["records"]}
    assert hard not in every
    assert kept in every


def test_account_delete_cascades_to_its_opportunities_contacts_and_contact_roles(emulator, sf):
    account = sf.Account.create({"Name": "Parent Co"})["id"]
    contact = sf.Contact.create({"LastName": "Child", "AccountId": account})["id"]
    opp = sf.Opportunity.create({"Name": "Child Deal", "AccountId": account,
                                 "StageName": "Prospecting", "CloseDate": "2027-01-31"})["id"]
    role = sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": contact,
                                             "Role": "Decision Maker"})["id"]
    other = sf.Opportunity.create({"Name": "Unrelated", "StageName": "Prospecting",
                                   "CloseDate": "2027-01-31"})["id"]
    sf.Account.delete(account)
    assert _deleted_ids(sf, "Contact") == {contact}
    assert _deleted_ids(sf, "Opportunity") == {opp}
    assert _deleted_ids(sf, "OpportunityContactRole") == {role}
    assert [r["Id"] for r in sf.query("SELECT Id FROM Opportunity")["records"]] == [other]


def test_contact_delete_takes_its_contact_roles(emulator, sf):
    contact = sf.Contact.create({"LastName": "Leaving"})["id"]
    opp = sf.Opportunity.create({"Name": "Stays", "StageName": "Prospecting",
                                 "CloseDate": "2027-01-31"})["id"]
    role = sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": contact})["id"]
    sf.Contact.delete(contact)
    assert _deleted_ids(sf, "OpportunityContactRole") == {role}
    assert sf.Opportunity.get(opp)["IsDeleted"] is False
