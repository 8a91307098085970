"""An operations bench: a local org, a store, mapsync processes started as an admin would.

Workers and backfills run as real ``mapsync`` subprocesses (signals and SIGKILL need a real
process); the org runs in the test process, and reps act in it through their own sessions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.settings import Settings, load_settings
from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from connectors.salesforce.client import SalesforceClient
from mappings.loader import default_mapping_path, load_mapping
from sync.cycle import Org
from sync.store import Store

MAPSYNC = str(Path(sys.executable).with_name("mapsync"))
TODAY = dt.datetime.now(dt.UTC).date()
PLAN = "Mutual_Action_Plan__c"
MILESTONE = "MAP_Milestone__c"


def wait_for(condition: Callable[[], Any], timeout: float, every: float = 0.1,
             what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class Ops:
    """The org, the store's URL, mapsync's parts as the CLI builds them, and a rep."""

    def __init__(self, org: Emulator, database_url: str, **settings: Any) -> None:
        self.org = org
        self.database_url = database_url
        self.overrides = {"SF_BULK_POLL_SECONDS": "0.2", "SF_RETRY_MAX_WAIT": "0.01",
                          **{k.upper(): str(v) for k, v in settings.items()}}
        admin: Any = salesforce_client(org)
        self.admin = admin
        rep = admin.query(
            f"SELECT Id FROM User WHERE Username != '{org.username}' ORDER BY Username LIMIT 1")
        self.rep_id = rep["records"][0]["Id"]
        self.rep: Any = salesforce_client(org, session_id=org.access_token(self.rep_id))
        self._store: Store | None = None

    # --- mapsync, in process and as processes ----------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SF_", "MAPSYNC_", "DATABASE_URL", "SYNC_"))}
        return {**env, **self.org.env(), "DATABASE_URL": self.database_url,
                "LOG_FORMAT": "json", **self.overrides, **extra}

    def settings(self, **extra: Any) -> Settings:
        values = {k.lower(): v for k, v in self.env().items()
                  if k.startswith(("SF_", "DATABASE_URL", "API_BUDGET"))}
        return load_settings(**{**values, **extra})

    def sync(self, **settings: Any) -> Org:
        """mapsync's parts for the org, fresh, as one CLI invocation builds them."""
        client = SalesforceClient(self.settings(**settings), sleep=lambda s: None)
        return Org.build(client, self.store, load_mapping(default_mapping_path()))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.database_url, auto_upgrade=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MAPSYNC, *args], env=self.env(**env), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    def start(self, *args: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
        out = log.open("ab")
        return subprocess.Popen([MAPSYNC, *args], env=self.env(**env), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    # --- a rep at work ---------------------------------------------------------------------

    def opportunity(self, stage: str = "Needs Analysis", name: str = "Initech – Platform",
                    close_in_days: int = 90) -> str:
        account = self.rep.Account.create({"Name": f"Account of {name}"})["id"]
        return str(self.rep.Opportunity.create({
            "Name": name, "StageName": stage, "AccountId": account, "Amount": 50_000,
            "CloseDate": (TODAY + dt.timedelta(days=close_in_days)).isoformat(),
            "Type": "New Business"})["id"])

    # --- what Salesforce holds -------------------------------------------------------------

    def count(self, sobject: str) -> int:
        return int(self.admin.query(f"SELECT COUNT() FROM {sobject}")["totalSize"])

    def rows(self, soql: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "attributes"}
                for r in self.admin.query_all(soql)["records"]]

    def snapshot(self) -> set[tuple[Any, ...]]:
        """Every plan and milestone by external id with its service-owned values."""
        plans = self.rows("SELECT External_Id__c, Template__c, Status__c, Health__c, "
                          "Percent_Complete__c, Target_Close_Date__c FROM " + PLAN)
        ms = self.rows("SELECT External_Id__c, Name, Status__c, Due_Date__c, "
                       "Baseline_Due_Date__c FROM " + MILESTONE)
        return ({("plan", *r.values()) for r in plans} | {("ms", *r.values()) for r in ms})

    def no_duplicates(self) -> bool:
        plans = self.rows(f"SELECT Opportunity__c FROM {PLAN}")
        ms = self.rows(f"SELECT External_Id__c FROM {MILESTONE}")
        return (len({p["Opportunity__c"] for p in plans}) == len(plans)
                and len({m["External_Id__c"] for m in ms}) == len(ms))


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM,
         timeout: float = 30) -> tuple[int, float]:
    """Send ``sig``; return the exit code and the seconds it took to exit."""
    started = time.monotonic()
    process.send_signal(sig)
    code = process.wait(timeout=timeout)
    return code, time.monotonic() - started


def json_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
