"""The run around the steps: one stop token for the process, escalation, one report type."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from config.errors import StopRequested
from sync.cycle.report import RunReport
from sync.cycle.run import StopToken
from sync.store.records import RunKind, RunOutcome


def test_a_stop_token_raises_at_the_next_safe_point_only_once_requested() -> None:
    token = StopToken()
    token.check()
    token.request("SIGTERM received")
    with pytest.raises(StopRequested, match="SIGTERM received: stopped at a safe point"):
        token.check()


def test_a_job_of_several_runs_adds_their_reports_into_one() -> None:
    total = RunReport(kind=RunKind.RECONCILE)
    first = RunReport(plans_created=2, milestones_written=16, pulled={"Opportunity": 3},
                      skipped={"before plan stage": 1}, runs=[1])
    second = RunReport(plans_updated=1, dead_letters=1, outcome=RunOutcome.PARTIAL.value,
                       pulled={"Opportunity": 2}, skipped={"before plan stage": 2}, runs=[2])
    total.add(first)
    total.add(second)
    assert (total.plans_created, total.plans_updated, total.milestones_written) == (2, 1, 16)
    assert total.pulled == {"Opportunity": 5}
    assert total.skipped == {"before plan stage": 3}
    assert total.runs == [1, 2]
    assert total.outcome == RunOutcome.PARTIAL.value


SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from sync.cli.signals import stop_on_signals
    from sync.cycle import StopToken
    with stop_on_signals(StopToken(), "finishing") as token:
        os.kill(os.getpid(), signal.SIGTERM)
        print("first:", token.requested, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        print("still running", flush=True)
""")


def test_the_first_signal_asks_the_run_to_stop_and_a_second_ends_the_process() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=60, check=False)
    assert "first: True" in done.stdout
    assert "still running" not in done.stdout
    assert done.returncode == -signal.SIGTERM
