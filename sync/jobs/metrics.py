"""Prometheus metrics of a worker, served on ``--metrics-port`` when asked for.

They are served on the loopback address unless ``MAPSYNC_METRICS_ADDRESS`` says otherwise:
the endpoint has no authentication and names the org's volumes and failures, so a worker on a
host with a public interface must not offer it to the world by default. A platform that
scrapes from outside the host sets the address it scrapes on (``0.0.0.0`` for every one).

Platforms scrape a worker to alert on what ``mapsync status`` shows by hand: cycles and
their outcome, how long they take, records written, API calls spent, dead letters waiting and
how far behind Salesforce the worker is. The metrics live in their own registry, owned by the
worker that serves them, so two workers in one test process never share counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from sync.cycle.report import RunReport

DEFAULT_METRICS_ADDRESS = "127.0.0.1"


class WorkerMetrics:
    """The worker's counters and gauges, in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter("mapsync_runs_total", "Runs by kind and outcome.",
                            ["kind", "outcome"], registry=r)
        self.duration = Histogram("mapsync_run_duration_seconds", "Run wall time by kind.",
                                  ["kind"], registry=r,
                                  buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600))
        self.records = Counter("mapsync_records_written_total", "Records written to Salesforce.",
                               ["object"], registry=r)
        self.api_calls = Counter("mapsync_api_calls_total", "Salesforce API calls made.",
                                 registry=r)
        self.dead_letters = Gauge("mapsync_dead_letters", "Dead letters by status.",
                                  ["status"], registry=r)
        self.lag = Gauge("mapsync_lag_seconds",
                         "Seconds since every object's changes were last read.", registry=r)
        self.lease_held = Gauge("mapsync_lease_held", "1 while this worker holds the org lease.",
                                registry=r)
        self.heartbeat = Gauge("mapsync_heartbeat_timestamp_seconds",
                               "Unix time of this worker's last heartbeat.", registry=r)

    def serve(self, port: int, addr: str = DEFAULT_METRICS_ADDRESS) -> WSGIServer:
        """Serve ``/metrics`` on ``addr``:``port`` from a daemon thread; return the server
        (its ``server_address`` is where it listens, ``shutdown()`` stops it)."""
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server

    def observe_run(self, kind: str, report: RunReport) -> None:
        self.runs.labels(kind=kind, outcome=report.outcome).inc()
        self.duration.labels(kind=kind).observe(report.seconds)
        self.api_calls.inc(report.api_calls)
        self.records.labels(object="Mutual_Action_Plan__c").inc(
            report.plans_created + report.plans_updated)
        self.records.labels(object="MAP_Milestone__c").inc(report.milestones_written)
        self.records.labels(object="Opportunity").inc(report.rollups_written)

    def observe_state(self, dead_letters: Mapping[str, int], lag_seconds: float | None) -> None:
        for status, n in dead_letters.items():
            self.dead_letters.labels(status=status).set(n)
        if lag_seconds is not None:
            self.lag.set(lag_seconds)
