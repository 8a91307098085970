"""``mapsync mappings check`` and ``preview``: the mapping against a real org, writing nothing.

``check`` compares the stages the mapping names with the org's Opportunity Stage picklist
(describe); ``preview`` shows the plan mapsync would write for one Opportunity.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from mappings.check import compare_stages
from sync.cli.app import fail, run_guarded
from sync.cli.arguments import opportunity_id as checked_id
from sync.cli.arguments import settings_with_mapping
from sync.cli.mappings_cmd import mappings_app
from sync.cli.runtime import open_runtime
from sync.cycle.decide import (
    SKIP_BEFORE_PLAN_STAGE,
    SKIP_LOST_BEFORE_PLAN,
    SKIP_NO_CLOSE_DATE,
    SKIP_NO_TEMPLATE,
    SKIP_UNMAPPED_STAGE,
    decide,
)
from sync.cycle.gather import gather
from sync.jobs.apply import rolling_out
from sync.planner.model import DesiredPlan, Opportunity

MAPPING_OPTION = typer.Option(None, "--mapping", help="The mapping file (default: "
                              "MAPSYNC_MAPPINGS, else the shipped default).")


@mappings_app.command("check")
def check(mapping: Path | None = MAPPING_OPTION) -> None:
    """Compare the mapping's stages with the org's Opportunity Stage picklist."""

    def body() -> None:
        with open_runtime(settings_with_mapping(mapping)) as rt:
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
def preview(opportunity_id: str = typer.Argument(..., help="The Opportunity's Id."),
            mapping: Path | None = MAPPING_OPTION) -> None:
    """Show the plan mapsync would write for one Opportunity (nothing is written)."""

    def body() -> None:
        wanted = checked_id(opportunity_id)
        with open_runtime(settings_with_mapping(mapping)) as rt:
            org = rt.org
            gathered = gather(org.salesforce, org.store, org.mapping, org.id, [wanted],
                              {}, me=org.salesforce.user_id)
            record = gathered.opportunities.get(wanted)
            if record is None:
                raise fail(f"no Opportunity with Id {opportunity_id}")
            planner = rolling_out(org).planner  # an existing plan as `apply` would leave it
            decisions = decide(gathered, planner, org.salesforce.user_id,
                               org.clock().date())
        opp = Opportunity.from_record(record)
        if decisions.failures:
            raise fail(decisions.failures[0].message)
        desired = decisions.sample.get(wanted)
        if desired is None:
            reason = next(iter(decisions.skipped), "nothing to plan")
            print(f"no plan for {opp.name} ({opp.stage}): {reason}"
                  f"{_EXPLAINED.get(reason, '').format(m=rt.mapping)}")
            return
        Console().print(preview_table(opp, desired))

    run_guarded(body)


_EXPLAINED = {
    SKIP_UNMAPPED_STAGE: " — the mapping's stages are {m.stages}; add the stage there "
                         "(mapsync mappings check compares them with the org)",
    SKIP_BEFORE_PLAN_STAGE: " — a plan is created once the stage reaches {m.create_at}",
    SKIP_LOST_BEFORE_PLAN: " — {m.closed_lost} cancels a plan; a deal lost before it had "
                           "one gets none",
    SKIP_NO_TEMPLATE: " — no template's rule matches it and the mapping has no default",
    SKIP_NO_CLOSE_DATE: " — due dates are worked back from the close date",
}


def preview_table(opp: Opportunity, desired: DesiredPlan) -> Table:
    table = Table(title=(f"{opp.name} ({opp.stage}, closes {opp.close_date}): "
                         f"{desired.template}, {desired.status}, {desired.health}, "
                         f"{desired.percent_complete:.0f}% complete, projected close "
                         f"{desired.projected_close_date}"))
    for col in ("#", "Milestone", "Side", "Role", "Stage", "Due", "Status", "Slip"):
        table.add_column(col)
    for m in desired.milestones:
        table.add_row(str(m.sequence), m.name, m.side, m.role, m.stage or "",
                      str(m.due_date), m.status, str(m.days_slipped))
    return table
