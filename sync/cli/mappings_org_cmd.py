"""``mapsync mappings check`` and ``preview``: the mapping against a real org, writing nothing.

``check`` compares the stages the mapping names with the org's Opportunity Stage picklist
(describe); ``preview`` shows the plan mapsync would write for one Opportunity.
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.table import Table

from connectors.salesforce.soql import soql
from mappings.check import compare_stages
from sync.cli.app import fail, run_guarded
from sync.cli.mappings_cmd import mappings_app
from sync.cli.runtime import open_runtime
from sync.cycle.pull import MILESTONE_FIELDS, OPPORTUNITY_FIELDS, PLAN_FIELDS
from sync.planner.calendar import BusinessCalendar
from sync.planner.model import DesiredPlan, Opportunity, PlanState
from sync.planner.planner import plan


@mappings_app.command("check")
def check() -> None:
    """Compare the mapping's stages with the org's Opportunity Stage picklist."""

    def body() -> None:
        with open_runtime() as rt:
            describe = rt.client.describe("Opportunity")
            stage = next(f for f in describe["fields"] if f["name"] == "StageName")
            org_stages = [v["value"] for v in stage["picklistValues"] if v.get("active", True)]
            result = compare_stages(rt.mapping, org_stages)
        if not result.matches:
            raise fail(f"the mapping and the org's stages differ ({len(org_stages)} stages "
                       "in the org)", result.problems())
        print(f"mapping matches the org's {len(org_stages)} Opportunity stages")

    run_guarded(body)


@mappings_app.command("preview")
def preview(opportunity_id: str = typer.Argument(..., help="The Opportunity's Id.")) -> None:
    """Show the plan mapsync would write for one Opportunity (nothing is written)."""

    def body() -> None:
        with open_runtime() as rt:
            rows = list(rt.client.query(soql(
                "SELECT " + ", ".join(OPPORTUNITY_FIELDS) + " FROM Opportunity WHERE Id = {i}",
                i=opportunity_id)))
            if not rows:
                raise fail(f"no Opportunity with Id {opportunity_id}")
            roles = [(r.get("Role") or "", r["ContactId"]) for r in rt.client.query(soql(
                "SELECT Role, ContactId FROM OpportunityContactRole WHERE OpportunityId = {i}",
                i=opportunity_id))]
            plans = list(rt.client.query(soql(
                "SELECT " + ", ".join(PLAN_FIELDS) + " FROM Mutual_Action_Plan__c "
                "WHERE External_Id__c = {i}", i=rows[0]["Id"])))
            milestones = list(rt.client.query(soql(
                "SELECT " + ", ".join(MILESTONE_FIELDS) + " FROM MAP_Milestone__c "
                "WHERE Plan__r.External_Id__c = {i}", i=rows[0]["Id"]))) if plans else []
            opp = Opportunity.from_record({**rows[0], "OpportunityContactRoles": {
                "records": [{"Role": r, "ContactId": c} for r, c in roles]}})
            state = PlanState.from_records(plans[0], {}, [(m, {}) for m in milestones]) \
                if plans else None
            desired = plan(opp, state, rt.mapping, BusinessCalendar.from_spec(
                rt.mapping.calendar), dt.datetime.now(dt.UTC).date())
        if desired is None:
            template = rt.mapping.select_template(opp.rule_fields())
            why = ("no template of the mapping matches it" if template is None
                   else f"its stage {opp.stage!r} is before {rt.mapping.create_at!r}")
            print(f"no plan for {opp.name}: {why}")
            return
        Console().print(preview_table(opp, desired))

    run_guarded(body)


def preview_table(opp: Opportunity, desired: DesiredPlan) -> Table:
    table = Table(title=(f"{opp.name} ({opp.stage}, closes {opp.close_date}): "
                         f"{desired.template}, {desired.health}, "
                         f"{desired.percent_complete:.0f}% complete, projected close "
                         f"{desired.projected_close_date}"))
    for col in ("#", "Milestone", "Side", "Role", "Stage", "Due", "Status", "Slip"):
        table.add_column(col)
    for m in desired.milestones:
        table.add_row(str(m.sequence), m.name, m.side, m.role, m.stage or "",
                      str(m.due_date), m.status, str(m.days_slipped))
    return table
