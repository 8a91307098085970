"""jsforce, a client written independently of mapsync, works against the local org.

If the org only answered what simple-salesforce happens to send, it would prove little.
jsforce 3.10.16 (the Node client most Salesforce tooling builds on) logs in with a bare access
token, pages queries with autoFetch and queryMore, creates records, upserts a Collection by
external id with per-record results, and runs Bulk API 2.0 ingest and query jobs. One Node
process runs every scenario (``tests/node/jsforce/scenarios.js``) and prints what it saw.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from tests.emulator.node_clients import NODE_ROOT, client_env, install

pytestmark = pytest.mark.node

JSFORCE_DIR = NODE_ROOT / "jsforce"
SEEDED_ACCOUNTS = 2500  # more than one 2,000-row query page


@pytest.fixture(scope="module")
def seen(pytestconfig: pytest.Config) -> Iterator[dict[str, Any]]:
    """What jsforce saw in each scenario, run against a fresh org holding 2,500 accounts."""
    install(pytestconfig, JSFORCE_DIR, {"jsforce": "3.10.16"})
    with Emulator(seed="empty") as org:
        org.org.access.make_admin(org.org.integration_user_id)
        account = org.org.schema.objects["Account"]
        org.org.store.insert_rows(account, [{"Name": f"Seeded {n:05d}"}
                                            for n in range(SEEDED_ACCOUNTS)],
                                  org.org.integration_user_id)
        env = client_env(org, INSTANCE_URL=org.instance_url, ACCESS_TOKEN=org.access_token(),
                         SF_USERNAME=org.username,
                         SF_PASSWORD=org.password + org.security_token)
        done = subprocess.run(["node", "scenarios.js"], cwd=JSFORCE_DIR, env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        out: dict[str, Any] = json.loads(done.stdout)
        out["identity_expected"] = {"userId": org.org.integration_user_id,
                                    "orgId": org.org.org_id, "username": org.username}
        yield out


def _ok(seen: dict[str, Any], scenario: str) -> Any:
    result = seen[scenario]
    assert "error" not in result, result["error"]
    return result


def test_jsforce_finds_who_it_is_from_an_access_token_alone(seen):
    assert _ok(seen, "identity") == seen["identity_expected"]


def test_jsforce_autofetch_reads_every_row_across_query_pages(seen):
    assert _ok(seen, "queryAutoFetch") == {"count": SEEDED_ACCOUNTS, "unique": SEEDED_ACCOUNTS}


def test_jsforce_query_more_follows_next_records_url_to_the_end(seen):
    result = _ok(seen, "queryMore")
    assert result["totalSize"] == SEEDED_ACCOUNTS
    assert result["pages"] == [2000, 500]
    assert "/services/data/v59.0/query/01g" in result["nextRecordsUrl"]


def test_jsforce_create_and_collection_upsert_report_per_record_results(seen):
    result = _ok(seen, "createAndUpsert")
    assert result["account"]["success"] is True
    assert result["account"]["id"].startswith("001")
    created, broken = result["first"]
    assert created["success"] is True
    assert created["created"] is True
    assert broken["success"] is False
    assert broken["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert broken["errors"][0]["fields"] == ["Name"]
    [again] = result["second"]
    assert again == {"id": created["id"], "success": True, "errors": [], "created": False}
    assert result["health"] == "At Risk"


def test_jsforce_bulk_ingest_returns_successful_and_failed_rows(seen):
    result = _ok(seen, "bulkIngest")
    assert [(r["created"], r["name"]) for r in result["successful"]] == \
        [("true", "Bulk via jsforce 1"), ("true", "Bulk via jsforce 2")]
    assert all(r["id"].startswith("001") for r in result["successful"])
    assert result["failed"] == [{
        "error": "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --",
        "employees": "7"}]
    assert result["unprocessed"] == 0


def test_jsforce_bulk_query_streams_every_row_with_parent_columns(seen):
    result = _ok(seen, "bulkQuery")
    # the seeded accounts, the one jsforce created, the two its Bulk job inserted
    assert result["count"] == result["unique"] == SEEDED_ACCOUNTS + 3
    assert result["sample"] == {"Id": result["sample"]["Id"], "Name": "Seeded 00000",
                                "Owner.Name": "Integration User"}


def test_jsforce_soap_login_then_bulk_v1_load_and_query(seen):
    result = _ok(seen, "soapLoginAndBulkV1")
    expected = seen["identity_expected"]
    assert (result["userId"], result["orgId"]) == (expected["userId"], expected["orgId"])
    assert [(r["success"], r["errors"]) for r in result["loaded"]] == [
        (True, []), (False, ["REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"])]
    assert [r["Name"] for r in result["rows"]] == ["Bulk 1.0 via jsforce"]
    assert result["rows"][0]["Id"] == result["loaded"][0]["id"]
