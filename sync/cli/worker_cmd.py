"""``mapsync worker``: the long-running process of a deployment (the Procfile's ``worker:``).

Signals: SIGTERM and SIGINT stop it taking new work; it waits for the run in flight and
exits 0 within 25 seconds, inside the 30 seconds Procfile platforms allow before SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import typer

from sync.cli.app import app, fail, run_guarded
from sync.cli.runtime import open_runtime
from sync.cli.signals import stop_on_signals
from sync.cycle import StopToken
from sync.jobs.metrics import WorkerMetrics
from sync.jobs.worker import Worker, WorkerOptions


def _time_of_day(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise fail(f"--reconcile-at must look like 03:00 (got {text!r})", code=2) from None


@app.command("worker")
def worker(
    metrics_port: int | None = typer.Option(None, "--metrics-port",
                                            help="Serve Prometheus metrics on this port "
                                                 "(default MAPSYNC_METRICS_PORT; none if "
                                                 "unset)."),
    interval: float | None = typer.Option(None, "--interval",
                                          help="Seconds between cycles "
                                               "(default SYNC_INTERVAL_SECONDS)."),
    lease_ttl: float = typer.Option(90.0, "--lease-ttl",
                                    help="Seconds before a silent worker's lease expires."),
    heartbeat: float = typer.Option(15.0, "--heartbeat", help="Seconds between heartbeats."),
    retry_interval: float = typer.Option(300.0, "--retry-interval",
                                         help="Seconds between dead-letter retry rounds."),
    reconcile_at: str = typer.Option("03:00", "--reconcile-at",
                                     help="UTC time of the nightly reconcile."),
    no_reconcile: bool = typer.Option(False, "--no-reconcile",
                                      help="Leave the nightly reconcile out."),
) -> None:
    """Sync on a schedule until stopped (SIGTERM/SIGINT: finish the run in flight, exit 0)."""

    def body() -> None:
        at = _time_of_day(reconcile_at)
        with open_runtime() as rt:
            options = WorkerOptions(
                interval_seconds=interval or rt.settings.sync_interval_seconds,
                lease_ttl_seconds=lease_ttl, heartbeat_seconds=heartbeat,
                retry_interval_seconds=retry_interval, reconcile_at=at,
                reconcile=not no_reconcile)
            try:
                options.checked()
            except ValueError as err:
                raise fail(str(err), code=2) from None
            metrics = None
            port = metrics_port if metrics_port is not None else rt.settings.mapsync_metrics_port
            if port is not None:
                metrics = WorkerMetrics()
                try:
                    metrics.serve(port)
                except OSError as err:
                    raise fail(f"cannot serve metrics on port {port}: "
                               f"{err.strerror or err}") from None
            with stop_on_signals(StopToken(), "finishing the run in flight") as token:
                clean = Worker(rt.org, options, metrics=metrics, stop=token).run()
        if not clean:
            # The run in flight has not committed; leaving now loses nothing it wrote to
            # Salesforce (the next start repeats it) and beats the platform's SIGKILL.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    run_guarded(body)
