"""``mapsync mappings apply``: roll a changed stage mapping out to existing plans, on purpose.

A mapping change (a milestone added or removed, new durations) reaches existing plans only
here: ``--dry-run`` lists per plan what would change and writes nothing; a real run asks
for confirmation on a terminal (``--yes`` off one) and takes the org's lease like
``mapsync sync --once``, so it never races the worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from sync.cli.app import fail, run_guarded
from sync.cli.arguments import settings_with_mapping
from sync.cli.holding import holding_the_org
from sync.cli.mappings_cmd import mappings_app
from sync.cli.mappings_org_cmd import MAPPING_OPTION
from sync.cli.runtime import open_runtime
from sync.jobs.apply import ApplyReport, PlanPreview, apply_mapping, plans_behind, rolling_out
from sync.store.records import RunOutcome


def describe(plan: PlanPreview) -> str:
    """``<Opportunity>: +added; -removed; ~kept Skipped; re-dated …`` (keys)."""
    parts = [f"{label} {', '.join(keys)}" for label, keys in (
        ("adds", plan.added), ("removes", plan.removed),
        ("keeps as Skipped (a rep changed it)", plan.kept_skipped),
        ("re-dates", plan.redated)) if keys]
    return f"{plan.opportunity}: {'; '.join(parts) or 'records the new version only'}"


def _print(result: ApplyReport, dry_run: bool) -> None:
    for plan in result.plans:
        print(("would: " if dry_run else "") + describe(plan))
    verb = "would change" if dry_run else "changed"
    print(f"{result.behind} plan(s) behind the mapping; {verb} "
          f"{sum(1 for p in result.plans)} plan(s), "
          f"{sum(len(p.added) for p in result.plans)} milestone(s) added, "
          f"{result.removed} removed, {sum(len(p.kept_skipped) for p in result.plans)} kept "
          f"as Skipped, {sum(len(p.redated) for p in result.plans)} re-dated; "
          f"{result.report.api_calls} API call(s)")


@mappings_app.command("apply")
def apply(
    mapping: Path | None = MAPPING_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="List what would change per plan; write nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    wait: float = typer.Option(10.0, "--wait", min=0,
                               help="Seconds to wait for another process's lease."),
) -> None:
    """Roll the mapping out to existing plans (run --dry-run first)."""

    def body() -> None:
        if not dry_run and not yes and not sys.stdin.isatty():
            raise fail("refusing to write to Salesforce without --yes when no terminal "
                       "can confirm", code=2)
        with open_runtime(settings_with_mapping(mapping)) as rt:
            if dry_run:
                result = apply_mapping(rt.org, dry_run=True)
                _print(result, dry_run=True)
                return
            if not yes:
                rolled = rolling_out(rt.org)
                behind = len(plans_behind(rolled, rolled.planner))
                if not typer.confirm(f"{behind} plan(s) are behind the mapping; apply it to "
                                     "them?", default=False):
                    raise fail("mapping not applied", code=1)
            with holding_the_org(rt, wait, "finishing the batch in flight") as control:
                result = apply_mapping(rt.org, control=control)
        _print(result, dry_run=False)
        if result.report.outcome == RunOutcome.RATE_LIMITED.value:
            raise fail("stopped by the API limit; run apply again to finish the plans "
                       "still behind")

    run_guarded(body)
