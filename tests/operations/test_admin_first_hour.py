"""An admin's first hour: backfill choices refused by name, a dry run that names the plans
and never reads as a backfill that wrote, a health check that makes no network call, and a
backfill killed before its first batch that resumes to the same result."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from connectors.emulator.server import Emulator
from sync.cycle import run_cycle
from sync.jobs.backfill import Backfill
from sync.jobs.backfill_report import estimate_batches, estimate_calls, tasks_per_plan
from sync.jobs.selection import Selection
from sync.store.records import BackfillStatus
from tests.operations.ops import MAPSYNC, MILESTONE, PLAN, Ops, json_lines, stop, wait_for
from tests.operations.test_worker import free_port


@pytest.mark.parametrize(("flag", "value", "choices"), [
    ("--stage", "Nope", "choose from: Prospecting, Qualification, Needs Analysis, "),
    ("--template", "nope", "choose from: enterprise, mid_market"),
])
def test_backfill_refuses_a_stage_or_template_the_mapping_lacks(
        ops: Ops, flag: str, value: str, choices: str) -> None:
    calls = ops.org.api_calls
    done = ops.run("backfill", "--dry-run", flag, value)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"mapsync: {flag} '{value}' is not in the mapping; ")
    assert choices in done.stderr
    assert ops.org.api_calls == calls


def test_dry_run_names_the_plans_and_says_what_each_would_get(ops: Ops) -> None:
    done = ops.run("backfill", "--dry-run", "--stage", "Needs Analysis", COLUMNS="160")
    assert done.returncode == 0, done.stderr[-2000:]
    names = {r["Name"] for r in ops.rows(
        "SELECT Name FROM Opportunity WHERE StageName = 'Needs Analysis'")}
    assert names
    assert "what a real run would change" in done.stdout
    for name in names:
        assert name in done.stdout
    rows = [line for line in done.stdout.splitlines() if "│ created" in line]
    assert len(rows) == len(ops.rows("SELECT Id FROM Opportunity WHERE StageName = "
                                     "'Needs Analysis'"))
    assert all(line.rstrip("│ ").endswith(("8", "12")) for line in rows), rows
    assert "006" not in done.stdout  # names, not Ids


def test_status_tells_a_dry_run_from_a_backfill_that_wrote(ops: Ops) -> None:
    assert ops.run("backfill", "--dry-run").returncode == 0
    table = ops.run("status", "--no-api", COLUMNS="160")
    row = next(line for line in table.stdout.splitlines() if "dry run" in line)
    assert "backfill dry run" in row
    assert "none (would " in row
    doc = json.loads(ops.run("status", "--no-api", "--json").stdout)
    assert [r["kind"] for r in doc["runs"]] == ["backfill_dry"]
    assert ops.count(PLAN) == 0


def test_status_no_api_makes_no_network_call(ops: Ops) -> None:
    run_cycle(ops.sync())
    started = time.monotonic()
    # a login would wait the whole connect timeout on the unroutable address: 60 s, far
    # above what starting the CLI takes on a loaded machine (6 s seen at load 6)
    done = ops.run("status", "--no-api", "--json", timeout=50,
                   SF_LOGIN_URL="https://10.255.255.1", SF_CONNECT_TIMEOUT="60")
    elapsed = time.monotonic() - started
    assert json.loads(done.stdout)["runs"][0]["kind"] == "cycle"
    assert elapsed < 30, f"status --no-api took {elapsed:.1f} s: it tried to log in"
    assert "Traceback" not in done.stderr


def test_the_api_call_estimate_bounds_what_a_backfill_costs(ops: Ops) -> None:
    selected = Backfill(ops.sync(), Selection()).count()
    report = Backfill(ops.sync(), Selection(), batch_size=20).run()
    assert report.status == BackfillStatus.COMPLETED.value
    estimate = estimate_calls(selected, 20, 12, 2000, tasks_per_plan(ops.sync().mapping))
    assert report.totals.api_calls <= estimate <= 3 * report.totals.api_calls


def test_the_bulk_batch_estimate_counts_a_batch_per_10000_records_of_each_objects_jobs() -> None:
    # 1,000,000 Opportunities: one job per object for the whole run takes plans 100,
    # milestones 1,200, Tasks 400, rollups 100 (10,000 records a batch): 1,800; batch by
    # batch (2,000 each), 500 batches' milestones (24,000: 3) and Tasks (8,000: 1): 2,000
    assert estimate_batches(1_000_000, 2_000, 12, 2_000, 4) == 500 * (3 + 1)
    assert estimate_batches(1_000_000, 1_000_000, 12, 2_000, 4) == 100 + 1_200 + 400 + 100
    # 10,001 plans take two batches; under the threshold, a run writes nothing by Bulk
    assert estimate_batches(10_001, 20_000, 1, 2_000, 0) == 2 + 2 + 2
    assert estimate_batches(1_500, 2_000, 1, 2_000, 0) == 0
    # batch by batch (2,000 Opportunities each), only the milestones pass the threshold,
    # 24,000 a batch: three batches each, more than one job for the whole run takes
    assert estimate_batches(1_000, 2_000, 12, 999, 0) == 1 + 2 + 1
    assert estimate_batches(4_000, 2_000, 12, 5_000, 0) == 2 * 3


def checkpoint(ops: Ops, org_id: str) -> tuple[str, int] | None:
    with ops.store.transaction(write=False) as tx:
        cps = tx.checkpoints(org_id)
    return (cps[0].status.value, int(cps[0].counts.get("done", 0))) if cps else None


def test_backfill_killed_before_its_first_batch_commits_resumes_to_an_uninterrupted_result(
        emulator_server: Emulator, tmp_path: Path) -> None:
    emulator_server.reset(seed="empty", opportunities=300)
    ops = Ops(emulator_server, f"sqlite:///{tmp_path / 'killed.db'}")
    org_id = ops.sync().id
    emulator_server.set_knobs(latency_ms=400)  # the first batch takes seconds to push
    run = ops.start("backfill", "--yes", "--batch-size", "100", log=tmp_path / "bf.log")
    try:
        wait_for(lambda: checkpoint(ops, org_id), 60, every=0.02, what="the start checkpoint")
        stop(run, signal.SIGKILL)
    finally:
        emulator_server.set_knobs(latency_ms=0)
    assert checkpoint(ops, org_id) == ("running", 0)
    resumed = ops.run("backfill", "--resume", "--yes", "--batch-size", "100")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "backfill completed" in resumed.stdout
    killed_result, killed_counts = ops.snapshot(), (ops.count(PLAN), ops.count(MILESTONE))
    assert ops.no_duplicates()
    ops.close()

    emulator_server.reset(seed="empty", opportunities=300)
    clean = Ops(emulator_server, f"sqlite:///{tmp_path / 'clean.db'}")
    whole = Backfill(clean.sync(), Selection(), batch_size=100).run()
    assert whole.status == BackfillStatus.COMPLETED.value
    assert killed_counts == (clean.count(PLAN), clean.count(MILESTONE))
    assert killed_counts[0] > 100
    assert killed_result == clean.snapshot()
    clean.close()


@pytest.mark.parametrize("spent", [0, 14_999], ids=["batches-left", "day-spent"])
def test_backfill_shows_the_selection_and_its_cost_before_asking(ops: Ops, spent: int) -> None:
    ops.org.org.bulk_tally.batch(spent)  # the org's Bulk work earlier today
    master, slave = pty.openpty()
    left = 15_000 - ops.org.org.bulk_tally.snapshot()["batches"]
    process = subprocess.Popen([MAPSYNC, "backfill", "--stage", "Needs Analysis"],
                               env=ops.env(LOG_FORMAT="console", SF_BULK_THRESHOLD="1"),
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Write plans for them?" not in seen and time.monotonic() < deadline:
            seen += os.read(master, 4096)
        os.write(master, b"n\n")
        code = process.wait(timeout=30)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    text = seen.decode(errors="replace")
    wanted = len(ops.rows("SELECT Id FROM Opportunity WHERE StageName = 'Needs Analysis'"))
    question = text.index("Write plans for them?")
    assert f"{wanted} Opportunities selected" in text[:question]
    assert "costs up to " in text[:question]
    assert " API calls" in text[:question]
    assert "Bulk batches of the org's 15,000 a day" in text[:question]
    assert f"({left:,} left today)" in text[:question]
    warned = "warning: more Bulk batches than are left today" in text[:question]
    assert warned == (spent > 0)
    assert code == 1
    assert "backfill not started" in text
    assert ops.count(PLAN) == 0


def _metrics(port: int) -> str | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.ConnectionError:
        return None


WORKER = ("--interval", "60", "--heartbeat", "0.5", "--lease-ttl", "5", "--no-reconcile",
          "--retry-interval", "600")


def test_worker_serves_metrics_on_the_port_setting_and_the_flag_overrides_it(
        ops: Ops, tmp_path: Path) -> None:
    setting, flag = free_port(), free_port()
    log = tmp_path / "w.log"
    worker = ops.start("worker", *WORKER, log=log, MAPSYNC_METRICS_PORT=str(setting))
    try:
        served = wait_for(lambda: _metrics(setting), 30, what="metrics on the setting's port")
    finally:
        assert stop(worker)[0] == 0
    assert "mapsync_lease_held" in served
    chatter = [line for line in json_lines(log) if line.get("logger", "").startswith(
        "apscheduler")]
    assert chatter == []  # scheduler chatter only at DEBUG

    worker = ops.start("worker", *WORKER, "--metrics-port", str(flag), log=log,
                       MAPSYNC_METRICS_PORT=str(setting))
    try:
        wait_for(lambda: _metrics(flag), 30, what="metrics on the flag's port")
        assert _metrics(setting) is None
    finally:
        assert stop(worker)[0] == 0
