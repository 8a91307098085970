"""``mapsync status``: runs, lag, API usage and dead letters; exit 1 when unhealthy."""

from __future__ import annotations

import datetime as dt
import json

from sync.cycle import run_cycle
from sync.jobs import status
from sync.store.records import RunKind
from tests.emulator.bulk_support import BulkClient
from tests.operations.ops import Ops


def test_status_reflects_runs_lag_usage_and_dead_letters_and_is_healthy_with_a_heartbeat(
        ops: Ops):
    org = ops.sync()
    ops.org.set_knobs(lock_rate=1.0)
    run_cycle(org)  # every write refused: dead letters
    ops.org.set_knobs(lock_rate=0.0)
    ops.store.try_acquire_lease(org.id, "worker-1", 60)

    done = ops.run("status", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(done.stdout)
    assert shown["healthy"] is True
    assert shown["runs"][0]["kind"] == RunKind.CYCLE.value
    assert shown["runs"][0]["outcome"] == "partial"
    assert shown["runs"][0]["api_calls"] > 0
    assert shown["dead_letters"]["open"] > 0
    assert shown["dead_letters_by_code"] == {"UNABLE_TO_LOCK_ROW": shown["dead_letters"]["open"]}
    assert 0 <= shown["lag_seconds"] < 60
    assert shown["api_usage"]["used"] > 0
    assert shown["api_usage"]["max"] > 0
    assert shown["lease_holder"] == "worker-1"
    assert shown["heartbeat_age_seconds"] < 60

    text = ops.run("status")
    assert text.returncode == 0
    assert "UNABLE_TO_LOCK_ROW" in text.stdout
    assert "healthy" in text.stdout


def test_status_exits_1_without_a_worker_heartbeat(ops: Ops):
    run_cycle(ops.sync())
    done = ops.run("status", "--json")
    assert done.returncode == 1
    assert any("no worker" in p for p in json.loads(done.stdout)["problems"])


def test_lag_over_the_threshold_is_unhealthy(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    ops.store.try_acquire_lease(org.id, "worker-1", 60)
    later = ops.store.now() + dt.timedelta(minutes=20)
    ops.store.heartbeat(org.id, "worker-1")
    seen = status.collect(ops.store, org.id, now=later,
                          max_heartbeat_age=dt.timedelta(hours=1))
    assert seen.lag_seconds is not None
    assert seen.lag_seconds >= 20 * 60
    assert not seen.healthy
    assert any("lag" in p for p in seen.problems)
    fresh = status.collect(ops.store, org.id, now=ops.store.now())
    assert fresh.healthy, fresh.problems


def test_a_quiet_org_is_not_lagging_while_cycles_keep_committing(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    first, _ = status.lag(ops.store, org.id, ops.store.now())
    run_cycle(org)  # nothing changed in Salesforce
    second, newest = status.lag(ops.store, org.id, ops.store.now())
    assert first is not None
    assert second is not None
    assert second <= first + 0.5
    assert newest is not None


def test_status_for_health_checks_costs_no_api_call(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    ops.store.try_acquire_lease(org.id, "worker-1", 60)
    before = ops.org.api_calls
    done = ops.run("status", "--json", "--no-api")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["api_usage"] is None
    assert ops.org.api_calls == before


def test_status_counts_the_days_bulk_batches_an_ingest_job_spends(ops: Ops):
    org = ops.sync()
    run_cycle(org)
    ops.store.try_acquire_lease(org.id, "worker-1", 60)

    def bulk_usage() -> tuple[dict[str, int], dict[str, int]]:
        done = ops.run("status", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        usage = json.loads(done.stdout)["api_usage"]
        return usage["bulk_batches"], usage["bulk_query_jobs"]

    batches, query_jobs = bulk_usage()
    assert (batches["max"], query_jobs["max"]) == (15_000, 10_000)
    rows = "Name\n" + "".join(f"Bulk {i}\n" for i in range(10_001))  # two batches
    assert BulkClient(ops.org).ingest("Account", "insert", rows)["state"] == "JobComplete"

    after, after_queries = bulk_usage()
    assert after["used"] == batches["used"] + 2
    assert after_queries == query_jobs
    text = ops.run("status")
    assert f"batches {after['used']:,} of 15,000 today" in text.stdout
