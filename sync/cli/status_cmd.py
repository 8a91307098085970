"""``mapsync status``: the worker's health for an admin, or for a platform's health check.

Prints the last runs, lag, today's API usage, dead letters by error code, the lease holder
and the heartbeat's age; ``--json`` prints the same as one JSON document. Exit code 1 when
the worker looks unhealthy (no heartbeat, lag over ``--max-lag``), so ``mapsync status`` can
be the health check command itself (with ``--no-api`` it costs no API call, which matters
when a platform runs it every few seconds).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from config.errors import MapsyncError
from config.settings import load_settings
from sync.cli.app import app, fail, run_guarded
from sync.cli.runtime import open_runtime, setup_logging
from sync.jobs.status import (
    DEFAULT_MAX_HEARTBEAT_AGE,
    DEFAULT_MAX_LAG,
    Status,
    collect,
    orgs_in_store,
)
from sync.store import Store
from sync.store.records import RunKind


@app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="One JSON document, for machines."),
    max_lag: float = typer.Option(DEFAULT_MAX_LAG.total_seconds(), "--max-lag",
                                  help="Seconds of lag above which the worker is unhealthy."),
    max_heartbeat_age: float = typer.Option(DEFAULT_MAX_HEARTBEAT_AGE.total_seconds(),
                                            "--max-heartbeat-age",
                                            help="Seconds without a heartbeat above which "
                                                 "the worker is unhealthy."),
    runs: int = typer.Option(10, "--runs", min=1, help="How many recent runs to show."),
    no_api: bool = typer.Option(False, "--no-api",
                                help="Answer from the store alone, without logging in or "
                                     "today's API usage: for frequent health checks."),
    org: str | None = typer.Option(None, "--org", help="The org's Id, with --no-api when "
                                   "the store holds several orgs."),
) -> None:
    """Show runs, lag, API usage, dead letters and the worker's heartbeat; exit 1 if unhealthy."""

    def from_store() -> Status:
        settings = load_settings()
        setup_logging(settings)
        store = Store.open(settings.database_url)
        try:
            known = orgs_in_store(store)
            if org is not None:
                org_id = org
            elif len(known) == 1:
                org_id = known[0]
            elif not known:
                raise fail("the store has no run of any org yet: start `mapsync worker` (or "
                           "run `mapsync sync --once`)")
            else:
                raise fail(f"the store holds {len(known)} orgs ({', '.join(known)}): name "
                           "one with --org")
            return collect(store, org_id, now=store.now(), limits=None, runs=runs,
                           max_lag=dt.timedelta(seconds=max_lag),
                           max_heartbeat_age=dt.timedelta(seconds=max_heartbeat_age))
        finally:
            store.close()

    def body() -> Status:
        if no_api:
            return from_store()
        with open_runtime() as rt:
            limits = None
            with contextlib.suppress(MapsyncError):  # answer even when quota is spent
                limits = rt.client.limits()
            return collect(rt.store, rt.org.id, now=rt.store.now(), limits=limits,
                           runs=runs, max_lag=dt.timedelta(seconds=max_lag),
                           max_heartbeat_age=dt.timedelta(seconds=max_heartbeat_age))

    result: Status = run_guarded(body)
    if as_json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        _print(result)
    if not result.healthy:
        raise typer.Exit(1)


DRY_RUN_KINDS = {RunKind.BACKFILL_DRY_RUN.value, RunKind.RECONCILE_DRY_RUN.value}


def _kind_label(kind: str) -> str:
    """``backfill_dry`` → ``backfill dry run``: a dry run never reads as a run that wrote."""
    return kind.replace("_dry", " dry run") if kind in DRY_RUN_KINDS else kind


def _print(s: Status) -> None:
    console = Console()
    verdict = "healthy" if s.healthy else "UNHEALTHY"
    console.print(f"[bold]mapsync status[/bold] org {s.org_id}: {verdict}")
    for problem in s.problems:
        console.print(f"  - {problem}")
    lag = "-" if s.lag_seconds is None else f"{s.lag_seconds:.0f} s"
    hb = "-" if s.heartbeat_age_seconds is None else f"{s.heartbeat_age_seconds:.0f} s ago"
    usage = bulk = "-"
    if s.api_usage:
        usage = f"{s.api_usage['used']:,} of {s.api_usage['max']:,} today"
        bulk = "; ".join(f"{what} {n['used']:,} of {n['max']:,} today" for what, n in (
            ("batches", s.api_usage.get("bulk_batches")),
            ("query jobs", s.api_usage.get("bulk_query_jobs"))) if n) or "-"
    summary = Table(show_header=False)
    summary.add_column("what")
    summary.add_column("value")
    for what, value in (("lag", lag), ("newest change seen", s.newest_change_seen or "-"),
                        ("API usage", usage), ("Bulk API usage", bulk),
                        ("lease holder", s.lease_holder or "-"),
                        ("heartbeat", hb),
                        ("dead letters", ", ".join(f"{k} {v}" for k, v in
                                                   s.dead_letters.items() if v) or "none")):
        summary.add_row(what, value)
    for reason in s.dead_letters_by_reason:
        summary.add_row(f"  active: {reason['code']}", f"{reason['count']}  "
                        f"{str(reason['message'])[:100]}")
    for bf in s.backfills:
        summary.add_row("backfill to resume", f"{bf['id']} ({bf['status']}, {bf['done']} done)")
    console.print(summary)
    table = Table(title="recent runs")
    for column in ("id", "kind", "started", "duration", "outcome", "API calls", "written",
                   "skipped (why)"):
        table.add_column(column)
    for run in s.runs:
        written = sum(int(run.counts.get(k, 0)) for k in
                      ("plans_created", "plans_updated", "milestones_written", "rollups_written"))
        dry = run.kind in DRY_RUN_KINDS
        table.add_row(str(run.id), _kind_label(run.kind), run.started_at[:19],
                      "-" if run.seconds is None else f"{run.seconds:.1f} s", run.outcome,
                      str(run.api_calls), f"none (would {written})" if dry else str(written),
                      _skipped(run.counts))
    console.print(table)


def _skipped(counts: dict[str, Any]) -> str:
    """Opportunities a run gave no plan, by their reason ("before plan stage 3")."""
    skipped = counts.get("skipped") or {}
    return ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items())) or "-"
