"""What reading Salesforce's history costs a poll, against the local org (flat 50 ms a call,
or the realistic profile).

(a) the first cycle's poll: the three objects, stage history and contact roles in one
    Composite request (five queries): the calls of that first request, and of the whole
    first cycle;
(b) a burst of 10,000 rep edits (Opportunities entered in Collections of 200), then the
    cycle that takes them;
(c) idle polls: the first one's window (the lookback before the last poll) still holds the
    burst; every later one costs 1 call however large the burst was (target), because the
    read position is the server's time of the poll, not the newest row.

The lookback is 5 s here so (c) starts seconds after the burst; with the default 600 s the
same holds ten minutes after it. API calls are the org's own count (``/limits``).

    python -m tests.benchmarks.bench_history [--burst N] [--profile flat|realistic]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.bench_cycle import org_calls, quiet
from tests.benchmarks.profiles import add_profile_arguments, profile_of, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=10_000)
    add_profile_arguments(parser)
    args = parser.parse_args()
    profile = profile_of(args)
    quiet()
    from connectors.emulator.pytest_plugin import salesforce_client
    from connectors.emulator.server import Emulator
    from tests.sync.world import TODAY, World

    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    with Emulator(work / "org", seed="demo", **profile.emulator_kwargs()) as org:
        world = World(org, work, lookback=dt.timedelta(seconds=5))
        sf: Any = salesforce_client(org)
        rows: list[tuple[str, int, int, float]] = []

        def cycle(label: str, expect: int | None = None) -> None:
            before = org_calls(sf)
            start = time.perf_counter()
            report = world.cycle()
            seconds = time.perf_counter() - start
            calls = org_calls(sf) - before - 1  # the /limits call itself
            rows.append((label, calls, report.touched, seconds))
            if expect is not None and calls != expect:
                print(f"  {label}: {calls} calls, target {expect}")

        cycle("(a) first cycle (demo org)")
        close = (TODAY + dt.timedelta(days=60)).isoformat()
        start = time.perf_counter()
        for first in range(0, args.burst, 200):
            records = [{"attributes": {"type": "Opportunity"}, "Name": f"Lead {n}",
                        "StageName": "Prospecting", "CloseDate": close,
                        "AccountId": world.account_id}
                       for n in range(first, min(first + 200, args.burst))]
            world.rep.restful("composite/sobjects", method="POST",
                              data=json.dumps({"allOrNone": True, "records": records}))
        burst_s = time.perf_counter() - start
        cycle(f"(b) the cycle after {args.burst:,} rep edits")
        time.sleep(6)
        cycle("(c) idle poll 1 (its window still holds the burst)")
        for n in range(2, 5):
            cycle(f"(c) idle poll {n}", expect=1)
    print(f"profile {profile.label}; burst of {args.burst:,} Opportunities entered by a rep "
          f"in {burst_s:.1f} s")
    print(f"{'cycle':<44} {'API calls':>9} {'touched':>8} {'wall':>8}")
    for label, calls, touched, seconds in rows:
        print(f"{label:<44} {calls:>9} {touched:>8} {seconds:>7.2f}s")
    print("floor: an idle poll is one Composite request (five queries): 1 call")
    summary("history", profile, burst_cycle_calls=rows[1][1],
            burst_cycle_seconds=round(rows[1][3], 1), idle_poll_calls=rows[-1][1],
            idle_poll_seconds=round(rows[-1][3], 2))


if __name__ == "__main__":
    main()
