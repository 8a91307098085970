"""``mapsync demo``: the whole product in a minute, with nothing to set up.

Starts a local Salesforce org seeded with a believable pipeline, runs a sync, and shows the
plans. Then it acts as reps do inside Salesforce — completes a milestone, moves a due date,
completes a Task, advances a stage, closes a deal lost — runs another cycle and shows what
changed and why, and one plan's milestones and Tasks as its rep sees them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from simple_salesforce import Salesforce

from config.logging import configure_logging
from config.settings import load_settings
from sync.cli.demo_tables import changes_table, milestones_table, plans_table, tasks_table
from sync.cli.runtime import open_runtime
from sync.cycle import RunReport, run_cycle

PLAN_VIEW = (
    "SELECT Opportunity__c, Opportunity__r.Name, Opportunity__r.StageName, "
    "Opportunity__r.OwnerId, Status__c, "
    "Health__c, Percent_Complete__c, Next_Milestone__c, Next_Due_Date__c, "
    "Target_Close_Date__c, Projected_Close_Date__c, Days_Slipped__c, Slip_Cause__c "
    "FROM Mutual_Action_Plan__c ORDER BY Opportunity__r.Name, Opportunity__c"
)
MILESTONE_VIEW = (
    "SELECT Name, Sequence__c, Owner_Side__c, Owner_Role__c, Owner_Contact__r.Name, "
    "Due_Date__c, Status__c, Days_Slipped__c FROM MAP_Milestone__c "
    "WHERE Plan__r.Opportunity__c = '{opportunity_id}' ORDER BY Sequence__c"
)
TASK_VIEW = (
    "SELECT Id, Subject, Owner.Name, OwnerId, ActivityDate, ReminderDateTime, Status, "
    "IsClosed FROM Task WHERE WhatId = '{opportunity_id}' AND MAP_External_Id__c != null "
    "ORDER BY ActivityDate, Subject"
)


@dataclass
class RepAction:
    opportunity_id: str
    opportunity: str
    what: str


def cycle_line(report: RunReport) -> str:
    return (f"cycle {report.run_id}: {report.outcome}; touched {report.touched}, plans created "
            f"{report.plans_created}, updated {report.plans_updated}, milestones written "
            f"{report.milestones_written}, tasks {report.tasks_written}, rollups "
            f"{report.rollups_written}, dead letters "
            f"{report.dead_letters}; {report.api_calls} API calls, {report.seconds:.1f} s")


def act_as_reps(sf: Salesforce, plans: list[dict[str, Any]],
                today: dt.date) -> list[RepAction]:
    """Four edits a rep makes in Salesforce, each on a different open plan."""
    active = [p for p in plans if p["Status__c"] == "Active"
              and (p.get("Opportunity__r") or {}).get("StageName") not in ("Closed Won",)]
    actions: list[RepAction] = []

    def milestones(opp_id: str) -> list[dict[str, Any]]:
        soql = ("SELECT Id, Name, Status__c, Due_Date__c FROM MAP_Milestone__c "
                f"WHERE Plan__r.Opportunity__c = '{opp_id}' ORDER BY Sequence__c")
        return list(sf.query_all(soql)["records"])

    def name(p: dict[str, Any]) -> str:
        return str((p.get("Opportunity__r") or {}).get("Name", p["Opportunity__c"]))

    def complete(p: dict[str, Any]) -> str:
        m = next(m for m in milestones(p["Opportunity__c"]) if m["Status__c"] != "Done")
        update(sf, "MAP_Milestone__c", m["Id"],
               {"Status__c": "Done", "Completed_Date__c": today.isoformat()})
        return f"marked milestone '{m['Name']}' Done"

    def move_due(p: dict[str, Any]) -> str:
        m = next(m for m in milestones(p["Opportunity__c"]) if m["Status__c"] != "Done"
                 and dt.date.fromisoformat(m["Due_Date__c"]) >= today)
        due = dt.date.fromisoformat(m["Due_Date__c"]) + dt.timedelta(days=21)
        update(sf, "MAP_Milestone__c", m["Id"], {"Due_Date__c": due.isoformat()})
        return f"moved '{m['Name']}' due date 3 weeks later, to {due}"

    def complete_task(p: dict[str, Any]) -> str:
        soql = TASK_VIEW.format(opportunity_id=p["Opportunity__c"])
        task = next(t for t in sf.query_all(soql)["records"] if not t["IsClosed"])
        update(sf, "Task", task["Id"], {"Status": "Completed"})
        return f"completed the Task '{task['Subject']}'"

    def has_open_task(p: dict[str, Any]) -> bool:
        soql = TASK_VIEW.format(opportunity_id=p["Opportunity__c"])
        return any(not t["IsClosed"] for t in sf.query_all(soql)["records"])

    def advance(p: dict[str, Any]) -> str:
        update(sf, "Opportunity", p["Opportunity__c"], {"StageName": "Proposal/Price Quote"})
        return "advanced the stage to Proposal/Price Quote"

    def lose(p: dict[str, Any]) -> str:
        update(sf, "Opportunity", p["Opportunity__c"], {"StageName": "Closed Lost"})
        return "closed the deal lost"

    def stage(p: dict[str, Any]) -> str:
        return str((p.get("Opportunity__r") or {}).get("StageName"))

    def future(p: dict[str, Any]) -> bool:
        due = p.get("Next_Due_Date__c")
        return bool(due) and dt.date.fromisoformat(str(due)) > today + dt.timedelta(days=7)

    early = ("Qualification", "Needs Analysis", "Value Proposition")
    picks: list[tuple[Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], bool]]] = [
        (complete, lambda p: True),
        (move_due, future),
        (complete_task, has_open_task),
        (advance, lambda p: stage(p) in early),
        (lose, lambda p: True),
    ]
    used: set[str] = set()
    for step, wanted in picks:
        plan = next((p for p in active if p["Opportunity__c"] not in used and wanted(p)), None)
        if plan is None:
            continue
        used.add(plan["Opportunity__c"])
        actions.append(RepAction(plan["Opportunity__c"], name(plan), step(plan)))
    return actions


def update(sf: Salesforce, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
    """A rep's edit of one record, as the Salesforce UI makes it (REST PATCH)."""
    sf.restful(f"sobjects/{sobject}/{record_id}", method="PATCH", data=json.dumps(fields))


def run_demo(console: Console | None = None, state_dir: Path | None = None) -> int:
    """Run the demo; returns the exit code."""
    from connectors.emulator.server import Emulator

    wide_log = sys.stdout.isatty() or "COLUMNS" in os.environ
    console = console or Console(width=None if wide_log else 150)
    width = console.width
    work = Path(state_dir or tempfile.mkdtemp(prefix="mapsync-demo-"))
    configure_logging("console", "WARNING")
    console.print("[bold]mapsync demo[/bold]: starting a local Salesforce org with a sample "
                  "pipeline…")
    with Emulator(work / "org", seed="demo") as org:
        settings = load_settings(**{k.lower(): v for k, v in org.env().items()},
                                 database_url=f"sqlite:///{work / 'mapsync.db'}",
                                 log_format="console", log_level="WARNING")
        with open_runtime(settings, log=False) as rt:
            first = run_cycle(rt.org)
            console.print(cycle_line(first))
            plans = list(rt.client.query(PLAN_VIEW))
            console.print(plans_table(plans, f"{len(plans)} plans in Salesforce after the "
                                             "first sync", width))
            # Opportunities are private to their owners: the rep with the most plans acts
            owners = Counter(str((p.get("Opportunity__r") or {}).get("OwnerId"))
                             for p in plans)
            rep_id = owners.most_common(1)[0][0]
            session = requests.Session()
            session.trust_env = False
            session.verify = str(org.ca_file)
            sf = Salesforce(instance_url=org.instance_url,
                            session_id=org.access_token(rep_id), session=session)
            today = rt.org.clock().date()
            actions = act_as_reps(sf, [p for p in plans if (p.get("Opportunity__r") or {})
                                       .get("OwnerId") == rep_id], today)
            console.print("\n[bold]Meanwhile, in Salesforce, reps work on their deals:[/bold]")
            for a in actions:
                console.print(f"  • {a.opportunity}: {a.what}")
            second = run_cycle(rt.org)
            console.print("\n" + cycle_line(second))
            after = {p["Opportunity__c"]: p for p in rt.client.query(PLAN_VIEW)}
            before = {p["Opportunity__c"]: p for p in plans}
            console.print(changes_table([(a.opportunity_id, a.opportunity, a.what)
                                         for a in actions], before, after, width))
            if actions:
                shown = next((a for a in actions if "due date" in a.what), actions[0])
                steps = list(rt.client.query(
                    MILESTONE_VIEW.format(opportunity_id=shown.opportunity_id)))
                console.print(milestones_table(shown.opportunity, steps, today, width))
                todo = list(rt.client.query(
                    TASK_VIEW.format(opportunity_id=shown.opportunity_id)))
                console.print(tasks_table(shown.opportunity, todo, today))
            idle = run_cycle(rt.org)
            written = idle.milestones_written + idle.tasks_written + idle.rollups_written
            console.print(f"\nA third cycle with nothing changed: {idle.api_calls} API call(s),"
                          f" {written} records written.")
    console.print(f"\nState kept in {work} (the org's data and mapsync's store).")
    return 0
