"""``mapsync share``: the buyer's plan document, stored as a File on each Opportunity.

    mapsync share                      # plans whose template says share: true (as the worker)
    mapsync share 006… 006…            # these Opportunities' plans, whatever their template
    mapsync share --all                # every plan
    mapsync share 006… --out DIR       # write the HTML and PDF to DIR, store nothing
    mapsync share --check-ins          # also schedule the plans' check-in Tasks

Storing takes the org's lease as ``sync --once`` does, so it never races the worker's own
share job into two versions of one document.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from sync.cli.app import app, fail, run_guarded
from sync.cli.holding import holding_the_org
from sync.cli.runtime import Runtime, open_runtime
from sync.jobs.checkins import CheckInReport, keep_check_ins
from sync.jobs.share import (
    ShareReport,
    documents,
    plan_query,
    seller_name,
    share_plans,
    shared_templates,
)
from sync.share import file_name, render_html, render_pdf


def _table(report: ShareReport, check_ins: CheckInReport | None) -> Table:
    table = Table(title="buyer plan documents", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, int]] = [("Files created", report.created),
                                   ("new versions", report.versioned),
                                   ("unchanged (no version added)", report.unchanged),
                                   ("refused", len(report.failed))]
    if check_ins is not None:
        rows += [("check-ins scheduled", check_ins.scheduled),
                 ("check-ins refreshed", check_ins.refreshed),
                 ("check-ins removed", check_ins.removed)]
    for what, n in rows:
        table.add_row(what, str(n))
    return table


@app.command("share")
def share(
    opportunities: list[str] = typer.Argument(None, help="Opportunity Ids (default: the plans "
                                                         "of templates with share: true)."),
    every_plan: bool = typer.Option(False, "--all", help="Every plan, whatever its template."),
    out: Path | None = typer.Option(None, "--out", help="Write each plan's HTML and PDF to "
                                                        "this folder; store nothing.",
                                    file_okay=False),
    check_ins: bool = typer.Option(False, "--check-ins",
                                   help="Also schedule the plans' check-in Tasks."),
    wait: float = typer.Option(10.0, "--wait", min=0,
                               help="Seconds to wait for another process's lease."),
) -> None:
    """Render each plan for the buyer and keep it as a File on its Opportunity."""
    if every_plan and opportunities:
        raise fail("give Opportunity Ids or --all, not both", code=2)

    def body() -> None:
        with open_runtime() as rt:
            templates = None if every_plan or opportunities else shared_templates(rt.mapping)
            if out is not None:
                _write(rt, out, templates, opportunities or None)
                return
            with holding_the_org(rt, wait, "finishing the plan in flight"):
                report = share_plans(rt.org, templates=templates,
                                     opportunity_ids=opportunities or None, salesforce=rt.client)
                booked = keep_check_ins(rt.org, salesforce=rt.client) if check_ins else None
        Console().print(_table(report, booked))
        for opportunity, why in report.failed:
            print(f"refused: {opportunity}: {why}")
        if report.failed:
            raise typer.Exit(1)

    run_guarded(body)


def _write(rt: Runtime, out: Path, templates: tuple[str, ...] | None,
           opportunity_ids: list[str] | None) -> None:
    plans = list(rt.client.query(plan_query(templates, opportunity_ids)))
    if not plans:
        raise fail("no plan to render (is the Opportunity planned, or its template shared?)")
    out.mkdir(parents=True, exist_ok=True)
    seller = seller_name(rt.client)
    for start in range(0, len(plans), 200):
        for _, document in documents(rt.org, plans[start:start + 200], seller):
            (out / file_name(document, "html")).write_bytes(render_html(document))
            (out / file_name(document, "pdf")).write_bytes(render_pdf(document))
    print(f"{len(plans)} plan(s) written to {out}")
