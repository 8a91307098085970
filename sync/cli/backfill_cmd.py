"""``mapsync backfill``: plan existing Opportunities, dry run first, resumable, with progress.

A backfill writes to thousands of records reps work in, so it asks before it starts (or
needs ``--yes``, and refuses to guess when nobody is at a terminal to answer), shows records
done, rate and ETA on a terminal and plain progress lines in logs otherwise, and ends with a
report an admin can act on: created, updated, unchanged, skipped and why, failed with
Salesforce's error.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from config.errors import MapsyncError, NothingToResumeError
from config.logging import get_logger
from config.settings import load_settings
from sync.cli.app import app, fail, run_guarded
from sync.cli.progress import progress_of
from sync.cli.runtime import load_mapping_from, open_runtime
from sync.cli.signals import stop_on_signals
from sync.cycle import RunControl, StopToken
from sync.jobs.backfill import DEFAULT_BATCH_SIZE, Backfill
from sync.jobs.backfill_report import DAILY_BULK_BATCHES, BackfillReport
from sync.jobs.selection import Selection
from sync.jobs.status import api_usage_from_limits
from sync.planner.model import DesiredPlan
from sync.store.records import BackfillStatus

log = get_logger("mapsync.backfill")


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{name} must be a date like 2024-01-31 (got {value!r})", code=2) from None


@app.command("backfill")
def backfill(
    since: str | None = typer.Option(None, "--since", help="First CreatedDate day (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last CreatedDate day, inclusive."),
    stage: list[str] = typer.Option([], "--stage", help="Only this stage (repeatable)."),
    opportunity_type: list[str] = typer.Option([], "--type",
                                               help="Only this Opportunity Type (repeatable)."),
    template: list[str] = typer.Option([], "--template",
                                       help="Only Opportunities this template applies to."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Read and plan only; write nothing to Salesforce."),
    resume: bool = typer.Option(False, "--resume",
                                help="Continue the paused or interrupted backfill."),
    recreate_deleted: bool = typer.Option(False, "--recreate-deleted",
                                          help="Recreate plans reps deleted."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1,
                                   help="Opportunities per checkpointed batch."),
) -> None:
    """Give existing Opportunities their plans (run --dry-run first)."""

    def body() -> None:
        selection = Selection(_day(since, "--since"), _day(until, "--until"), tuple(stage),
                              tuple(opportunity_type), tuple(template))
        _check_choices(selection)
        if not dry_run and not yes and not sys.stdin.isatty():
            raise fail("refusing to write to Salesforce without --yes when no terminal "
                       "can confirm", code=2)
        token = StopToken()
        with open_runtime() as rt, stop_on_signals(token, "finishing the batch in flight"):
            job = Backfill(rt.org, selection, batch_size=batch_size, dry_run=dry_run,
                           recreate_deleted=recreate_deleted, control=RunControl(stop=token))
            if not dry_run and not yes:
                _confirm(job, selection, rt.client)
            with progress_of("backfill", log) as progress:
                job.progress = progress
                if not resume and not dry_run and job.resumable():
                    print("mapsync: note: a backfill with these options was interrupted; this "
                          "run starts over (use --resume to continue it instead)",
                          file=sys.stderr)
                try:
                    report = job.run(resume=resume)
                except NothingToResumeError as err:
                    raise fail(str(err)) from None
            _print_report(report, rt.store, rt.org.id)
        if report.status == BackfillStatus.PAUSED.value:
            raise fail(f"backfill paused ({report.totals.error}); state kept: run the same command "
                       "with --resume to continue")

    run_guarded(body)


def _check_choices(selection: Selection) -> None:
    """``--stage`` and ``--template`` name what the mapping holds, or exit 2 listing it (a
    misspelt stage would otherwise select nothing and report success)."""
    mapping = load_mapping_from(load_settings())
    for flag, given, valid in (("--stage", selection.stages, mapping.stages),
                               ("--template", selection.templates,
                                [t.name for t in mapping.templates])):
        unknown = [v for v in given if v not in valid]
        if unknown:
            raise fail(f"{flag} {unknown[0]!r} is not in the mapping; choose from: "
                       + ", ".join(valid), code=2)


def _confirm(job: Backfill, selection: Selection, client: Any) -> None:
    """Say what a real run will touch and cost, then ask."""
    selected = job.count()
    print(f"{selected:,} Opportunities selected ({_describe(selection)}); writing their plans "
          f"costs up to {job.estimated_calls(selected):,} API calls.")
    batches = job.estimated_batches(selected)
    if batches:
        left = _bulk_batches_left(client)
        print(f"It takes about {batches:,} Bulk batches of the org's "
              f"{DAILY_BULK_BATCHES:,} a day"
              + (f" ({left:,} left today)." if left is not None else "."))
        if left is not None and batches > left:
            print("mapsync: warning: more Bulk batches than are left today: Salesforce "
                  "refuses Bulk work past the day's allocation (run it tomorrow, or select "
                  "fewer Opportunities)", file=sys.stderr)
    if not typer.confirm("Write plans for them?", default=False):
        raise fail("backfill not started", code=1)


def _bulk_batches_left(client: Any) -> int | None:
    """The org's Bulk batches left today (``/limits``, one call), or ``None`` unknown."""
    try:
        usage = api_usage_from_limits(client.limits())
    except MapsyncError as err:  # the question stands without it
        log.warning("limits unreadable", error=str(err))
        return None
    batches = usage.get("bulk_batches") if usage else None
    return batches["max"] - batches["used"] if batches else None


def _describe(selection: Selection) -> str:
    parts = [f"{k}={v}" for k, v in selection.parameters().items() if v]
    return "the Opportunities " + (", ".join(parts) if parts else "of the whole org")


def _print_report(report: BackfillReport, store: Any, org_id: str) -> None:
    console = Console()
    title = "backfill dry run (nothing written)" if report.dry_run else \
        f"backfill {report.status}"
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    verb = "would be " if report.dry_run else ""
    rows: list[tuple[str, Any]] = [
        ("Opportunities selected", report.selected),
        ("Opportunities done", report.done),
        (f"plans {verb}created", report.totals.plans_created),
        (f"plans {verb}updated", report.totals.plans_updated),
        ("plans unchanged", report.totals.plans_unchanged),
        (f"milestones {verb}written", report.totals.milestones_written),
    ]
    rows += [(f"skipped: {reason}", n) for reason, n in sorted(report.totals.skipped.items())]
    if not report.dry_run:
        rows.append(("failed (dead letters)", report.totals.dead_letters))
    rows.append(("API calls used", report.totals.api_calls))
    if report.dry_run:
        rows.append(("API calls a real run would cost",
                     report.totals.api_calls + report.estimated_write_calls))
        rows.append((f"Bulk batches a real run would take (of {DAILY_BULK_BATCHES:,} a day)",
                     report.estimated_bulk_batches))
    rows.append(("duration", f"{report.totals.seconds:.1f} s"))
    for what, value in rows:
        table.add_row(what, str(value))
    console.print(table)
    if report.dry_run and report.totals.would_change:
        console.print(_changes_table(report))
    if report.dry_run and report.sample:
        console.print(_sample_table(report.sample, report.names))
    if report.totals.dead_letters and not report.dry_run:
        with store.transaction(write=False) as tx:
            letters = tx.dead_letters(org_id, status="open", limit=20)
        for letter in letters:
            console.print(f"  failed {letter.object_name} {letter.external_id}: "
                          f"{letter.error_code}: {letter.error_message}")
        console.print("see `mapsync deadletters list` for every refused record")


def _changes_table(report: BackfillReport) -> Table:
    """Per plan, what a real run would do: create it, or change which fields, and how many
    milestones it would write."""
    lines = report.totals.would_change
    more = (report.totals.plans_created + report.totals.plans_updated) - len(lines)
    title = "what a real run would change" + (f" (first {len(lines)} plans)" if more > 0
                                              else "")
    table = Table(title=title)
    for column in ("Opportunity", "plan", "milestones written"):
        table.add_column(column, overflow="fold")
    for line in lines:
        if line.created:
            what = "created"
        elif line.fields:
            what = "fields changed: " + ", ".join(f.removesuffix("__c").replace("_", " ")
                                                  for f in line.fields)
        else:
            what = "unchanged"
        table.add_row(report.names.get(line.opportunity_id, line.opportunity_id), what,
                      str(line.milestones))
    return table


def _sample_table(plans: list[DesiredPlan], names: dict[str, str]) -> Table:
    table = Table(title="sample of the plans")
    for column in ("Opportunity", "template", "milestones", "first due", "last due"):
        table.add_column(column)
    for plan in plans:
        dues = [m.due_date for m in plan.milestones if m.due_date is not None]
        table.add_row(names.get(plan.opportunity_id, plan.opportunity_id), plan.template,
                      str(len(plan.milestones)),
                      str(min(dues)) if dues else "-", str(max(dues)) if dues else "-")
    return table
