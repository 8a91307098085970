"""``mapsync reconcile [--dry-run]``: the worker's nightly reconcile, now, for an admin.

After a data load, a mass update or a mapping change, an admin should not wait for 03:00:
this runs the same job the worker runs (a cycle, then every Opportunity re-planned, drift
repaired) and prints the same report, with a progress bar. It takes the org's lease as
``sync --once`` does, so it never runs beside a worker's cycle. ``--dry-run`` decides every
batch and writes nothing to Salesforce nor any sync state, only its run record, of a kind of
its own (``status`` shows it as a dry run).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from config.logging import get_logger
from sync.cli.app import app, fail, run_guarded
from sync.cli.holding import holding_the_org
from sync.cli.progress import progress_of
from sync.cli.runtime import open_runtime
from sync.cli.sync_cmd import summary_table
from sync.cycle import RunReport
from sync.jobs.reconcile import DEFAULT_BATCH_SIZE, reconcile
from sync.store.records import RunOutcome

log = get_logger("mapsync.reconcile")


@app.command("reconcile")
def reconcile_command(
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Decide what would be repaired; write nothing."),
    wait: float = typer.Option(10.0, "--wait", min=0,
                               help="Seconds to wait for another process's lease."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1,
                                   help="Opportunities per batch."),
) -> None:
    """Run the nightly reconcile now: re-plan every Opportunity and repair drift."""

    def body() -> RunReport:
        with open_runtime() as rt, \
                holding_the_org(rt, wait, "finishing the batch in flight") as control, \
                progress_of("reconcile", log) as progress:
            return reconcile(rt.org, batch_size=batch_size, dry_run=dry_run,
                             progress=progress, control=control)

    report: RunReport = run_guarded(body)
    Console().print(report_table(report, dry_run))
    if report.outcome == RunOutcome.RATE_LIMITED.value:
        raise fail(f"reconcile stopped by the API limit; the next one repairs the rest: "
                   f"{report.error}")
    if report.dead_letters:
        print(f"{report.dead_letters} record(s) refused by Salesforce: "
              "see `mapsync deadletters list`")


def report_table(report: RunReport, dry_run: bool) -> Table:
    """The worker's reconcile report (``sync --once``'s table), titled for what it was."""
    table = summary_table(report)
    table.title = ("reconcile dry run: nothing written; the counts are what a real run "
                   "would write" if dry_run else f"reconcile: {report.outcome}")
    if not dry_run:
        table.add_row("milestones restored", str(report.milestones_restored))
    return table
