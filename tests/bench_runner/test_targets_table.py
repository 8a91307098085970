"""``make bench`` ends with one row per target: measured vs target, the floor beside it."""

from __future__ import annotations

import json

import pytest

from tests.benchmarks.profiles import TARGET, BenchProfile, target
from tests.benchmarks.run import print_targets


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line[len(TARGET):]) for line in out.splitlines()
            if line.startswith(TARGET)]


def test_a_call_count_over_its_target_is_missed_and_one_under_is_met(
        capsys: pytest.CaptureFixture[str]) -> None:
    flat = BenchProfile()
    assert target("backfill API calls", flat, 80, 40, unit="calls", floor=20) is False
    assert target("backfill API calls", flat, 40, 40, unit="calls", floor=20) is True
    assert target("re-plans per CPU second", None, 39_999, 40_000, at_least=True) is False
    gathered = _lines(capsys.readouterr().out)
    assert [t["met"] for t in gathered] == [False, True, False]
    assert gathered[0]["profile"] == "flat 50 ms"

    print_targets(gathered, ("3.0 2.0 1.0", "4.0 3.0 2.0"))
    table = capsys.readouterr().out.splitlines()
    assert "load average at start 3.0 2.0 1.0, at end 4.0 3.0 2.0" in table[1]
    missed = [row for row in table if row.endswith("MISSED")]
    assert len(missed) == 2
    assert "80 calls" in missed[0]
    assert "\u2264 40 calls" in missed[0]
    assert "20 calls" in missed[0]  # the floor beside the count
    assert "\u2265 40,000" in missed[1]


def _run(code: int, outcome: str, calls: int) -> dict[str, object]:
    return {"code": code, "outcome": outcome, "calls": calls, "floor": 25, "wall": 1.0,
            "cpu": 1.0, "peak_mb": 150.0, "store_bytes": 0, "bulk": "", "touched": 0,
            "records": {}, "org_peak_mb": 60.0, "error": "schema revision none", "endpoints": {},
            "forced_jobs": 0}


def test_a_million_run_that_crashed_meets_no_target_however_few_calls_it_made(
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks.bench_million import report

    assert report(5_000, [("(a) backfill, PostgreSQL", _run(1, "crashed", 0))], [1.0]) == 1
    out = capsys.readouterr().out
    assert "TARGET MISSED" in out
    gathered = _lines("\n".join(line for line in out.splitlines()
                                if line.startswith(TARGET + "{")))
    assert [(t["target"], t["met"]) for t in gathered] == [
        ("5,000 Opportunities: backfill, PostgreSQL: completed (crashed)", False)]


def test_the_million_floor_counts_the_jobs_salesforces_upload_limit_forces() -> None:
    from tests.benchmarks.bench_million import forced_jobs

    mb = 1_000_000
    # 112.5 MB of CSV is 150 MB once base64-encoded: one job; a byte more takes two
    assert forced_jobs({}, {"MAP_Milestone__c": 112_500_000}) == 0
    assert forced_jobs({}, {"MAP_Milestone__c": 112_500_001}) == 1
    # only what was sent between the two tallies counts, each object on its own
    assert forced_jobs({"MAP_Milestone__c": 400 * mb},
                       {"MAP_Milestone__c": 800 * mb, "Task": 230 * mb, "MAP_Plan__c": 1}) == 3 + 2
