"""A small world for sync scenarios: a local org, mapsync's parts and reps acting in it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from config.settings import load_settings
from connectors.emulator.pytest_plugin import salesforce_client
from connectors.emulator.server import Emulator
from connectors.salesforce.client import SalesforceClient
from mappings.loader import default_mapping_path, load_mapping
from mappings.model import StageMapping
from sync.cycle import Org, RunControl, RunReport, run_cycle
from sync.store import Store

TODAY = dt.datetime.now(dt.UTC).date()


class World:
    """The org, a store, mapsync's parts for it (``sync``), and a rep's Salesforce session."""

    def __init__(self, org: Emulator, tmp_path: Path, mapping: StageMapping | None = None,
                 settings: dict[str, Any] | None = None, **org_kw: Any) -> None:
        self.org = org
        self._shift = dt.timedelta(0)
        self.settings = load_settings(
            **{k.lower(): v for k, v in org.env().items()},
            database_url=f"sqlite:///{tmp_path / 'mapsync.db'}",
            sf_retry_max_wait=0.01, sf_bulk_poll_seconds=0.05, **(settings or {}),
        )
        self.client = SalesforceClient(self.settings, sleep=lambda s: None)
        self.store = Store.open(self.settings.database_url)
        self.sync = Org.build(self.client, self.store,
                              mapping or load_mapping(default_mapping_path()), **org_kw)
        self.admin: Any = salesforce_client(org)
        rep = self.admin.query(
            f"SELECT Id FROM User WHERE Username != '{org.username}' ORDER BY Username LIMIT 1")
        self.rep_id = rep["records"][0]["Id"]
        self.rep: Any = salesforce_client(org, session_id=org.access_token(self.rep_id))
        self.account_id = self.rep.Account.create({"Name": "Initech"})["id"]

    @property
    def org_id(self) -> str:
        return self.sync.id

    def cycle(self, control: RunControl | None = None) -> RunReport:
        """One sync cycle, as the worker runs it."""
        return run_cycle(self.sync, control)

    def minutes_later(self, minutes: int = 1) -> None:
        """Move Salesforce's clock and mapsync's on together (Get Updated answers for whole
        minutes only: a change is in the poll of the next minute)."""
        self._shift += dt.timedelta(minutes=minutes)
        shift = self._shift
        self.org.org.set_clock(lambda: dt.datetime.now(dt.UTC) + shift)
        self.sync = dataclasses.replace(self.sync,
                                        clock=lambda: dt.datetime.now(dt.UTC) + shift)

    # --- a rep at work -----------------------------------------------------------------

    def opportunity(self, stage: str = "Needs Analysis", close_in_days: int = 90,
                    amount: float = 50_000, name: str = "Initech – Platform") -> str:
        close = TODAY + dt.timedelta(days=close_in_days)
        return str(self.rep.Opportunity.create({
            "Name": name, "StageName": stage, "CloseDate": close.isoformat(),
            "Amount": amount, "AccountId": self.account_id, "Type": "New Business"})["id"])

    def edit(self, sobject: str, record_id: str, **fields: Any) -> None:
        self.rep.restful(f"sobjects/{sobject}/{record_id}", method="PATCH",
                         data=json.dumps(fields))

    def delete(self, sobject: str, record_id: str) -> None:
        self.rep.restful(f"sobjects/{sobject}/{record_id}", method="DELETE")

    # --- what Salesforce holds ---------------------------------------------------------

    def query(self, soql: str) -> list[dict[str, Any]]:
        return list(self.admin.query_all(soql)["records"])

    def plan(self, opp_id: str) -> dict[str, Any] | None:
        rows = self.query(f"SELECT Id, Status__c, Health__c, Percent_Complete__c, "
                          f"Projected_Close_Date__c, Days_Slipped__c, Target_Close_Date__c, "
                          f"Summary__c FROM Mutual_Action_Plan__c "
                          f"WHERE Opportunity__c = '{opp_id}'")
        return rows[0] if rows else None

    def milestones(self, opp_id: str) -> dict[str, dict[str, Any]]:
        rows = self.query(
            "SELECT Id, Key__c, Status__c, Due_Date__c, Baseline_Due_Date__c, "
            "Completed_Date__c, Notes__c, Days_Slipped__c, Stage__c, Owner_Side__c "
            f"FROM MAP_Milestone__c WHERE Plan__r.Opportunity__c = '{opp_id}'")
        return {r["Key__c"]: r for r in rows}

    def opportunity_record(self, opp_id: str) -> dict[str, Any]:
        return dict(self.admin.Opportunity.get(opp_id))

    def counts(self) -> tuple[int, int]:
        plans = self.admin.query("SELECT COUNT() FROM Mutual_Action_Plan__c")["totalSize"]
        ms = self.admin.query("SELECT COUNT() FROM MAP_Milestone__c")["totalSize"]
        return plans, ms

    def snapshot(self) -> set[tuple[Any, ...]]:
        """Every plan and milestone's identity and service values, to compare two orgs."""
        rows = self.query("SELECT External_Id__c, Status__c, Health__c, Percent_Complete__c, "
                          "Projected_Close_Date__c FROM Mutual_Action_Plan__c")
        ms = self.query("SELECT External_Id__c, Status__c, Due_Date__c, Baseline_Due_Date__c, "
                        "Days_Slipped__c FROM MAP_Milestone__c")
        return ({("plan", *(r[k] for k in r if k != "attributes")) for r in rows}
                | {("ms", *(r[k] for k in r if k != "attributes")) for r in ms})
