"""``mapsync sync --once``: one cycle, with a summary an admin can read at a glance.

It takes the org's lease as the worker does, so two processes never sync one org at once: a
second ``sync --once`` (or one started while a worker runs) waits up to ``--wait`` seconds for
the lease and then exits 1 with one line naming the holder, having done nothing.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from sync.cli.app import app, fail, run_guarded
from sync.cli.holding import holding_the_org
from sync.cli.runtime import open_runtime
from sync.cycle import RunReport, run_cycle
from sync.store.records import RunOutcome


def summary_table(report: RunReport) -> Table:
    table = Table(title=f"sync cycle {report.run_id}: {report.outcome}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    pulled = ", ".join(f"{k} {v}" for k, v in report.pulled.items())
    rows = [
        ("pulled", pulled or "0"),
        ("opportunities touched", report.touched),
        ("plans created", report.plans_created),
        ("plans updated", report.plans_updated),
        ("plans unchanged", report.plans_unchanged),
        ("plans removed", report.plans_deleted),
        ("milestones written", report.milestones_written),
        ("opportunity rollups written", report.rollups_written),
        ("owners unknown (role without contact)", report.owner_unknown),
        ("dead letters", report.dead_letters),
        ("API calls used", report.api_calls),
        ("duration", f"{report.seconds:.2f} s"),
    ]
    for reason, n in sorted(report.skipped.items()):
        rows.append((f"skipped: {reason}", n))
    for what, value in rows:
        table.add_row(what, str(value))
    return table


@app.command("sync")
def sync(once: bool = typer.Option(False, "--once", help="Run one cycle and exit."),
         wait: float = typer.Option(10.0, "--wait", min=0,
                                    help="Seconds to wait for another process's lease.")) -> None:
    """Run one sync cycle (use ``mapsync worker`` to run on a schedule)."""

    def body() -> None:
        if not once:
            raise fail("use `mapsync sync --once` for one cycle, `mapsync worker` to keep "
                       "syncing on a schedule", code=2)
        with open_runtime() as rt, \
                holding_the_org(rt, wait, "finishing the cycle in flight") as control:
            report = run_cycle(rt.org, control)
        Console().print(summary_table(report))
        if report.outcome == RunOutcome.RATE_LIMITED.value:
            raise fail(f"cycle stopped by the API limit, state kept; the next cycle resumes: "
                       f"{report.error}")
        if report.dead_letters:
            print(f"{report.dead_letters} record(s) refused by Salesforce: "
                  "see `mapsync deadletters list`")

    run_guarded(body)
