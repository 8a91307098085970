"""Peers against the local org: rows read, API calls and rows missed when commits arrive late.

Real clients run unmodified, each in its own virtual environment (``tests/peers/venvs.py``),
with only Salesforce's login host redirected to the local org (``LoginProxy``: an HTTPS
proxy for login.salesforce.com, and the org's CA through ``REQUESTS_CA_BUNDLE``):
simple-salesforce's SOAP login and ``sf.bulk`` (Bulk API 1.0), tap-salesforce in REST and
BULK mode, Airbyte's source-salesforce; beside them mapsync's own poll (``sync.cycle.pull``)
reading the same changes. Each gets a fresh org of ``--opportunities`` and three polls:

1. the first read (every Opportunity);
2. after ``--edits`` reps' edits committed on time;
3. after ``--late`` edits whose commits arrive late (the org's ``late_stamp`` knob: stamped
   ``--lag-seconds`` before they become visible, as a long transaction's ``SystemModstamp``
   is) and ``--edits`` more on time.

Rows are what the peer emitted (duplicates included), calls what the org counted (logins are
not API calls), missed the edited Opportunities the poll after them never read. A peer that
cannot be installed or run is reported in one line, and the run fails.

    python -m tests.benchmarks.bench_peers [--opportunities N] [--edits N] [--late N]
                                           [--lag-seconds S] [--only NAME]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog
from pydantic import SecretStr

from config.settings import Settings
from connectors.emulator.errors import RecordResult
from connectors.emulator.login_proxy import LoginProxy
from connectors.emulator.server import Emulator
from connectors.salesforce import SalesforceClient
from sync.cycle import pull
from sync.cycle.sobjects import OPPORTUNITY, SYNCED_OBJECTS
from sync.store.records import Watermark
from tests.peers.clients import (
    AirbyteSalesforce,
    PeerFailed,
    Poll,
    SimpleSalesforceBulk,
    TapSalesforce,
)
from tests.peers.venvs import PeerUnavailable


class PeerClient(Protocol):
    @property
    def name(self) -> str: ...

    def discover(self) -> list[str]: ...

    def poll(self) -> Poll: ...


class MapsyncPoll:
    """mapsync's pull step alone: one Composite call per poll, watermark minus lookback."""

    name = "mapsync poll"

    def __init__(self, org: Emulator) -> None:
        self.settings = Settings(_env_file=None, sf_login_url=org.login_url,
                                 sf_client_id=org.client_id,
                                 sf_client_secret=SecretStr(org.client_secret),
                                 sf_ca_bundle=org.ca_file)
        self.client = SalesforceClient(self.settings)
        self.lookback = dt.timedelta(seconds=self.settings.sync_lookback_seconds)
        self.marks: dict[str, Watermark | None] = {}
        self.me = ""

    def discover(self) -> list[str]:
        self.client.connect()
        self.me = self.client.user_id or ""
        return list(SYNCED_OBJECTS)

    def poll(self) -> Poll:
        started = time.perf_counter()
        pulled = pull.read(self.client, self.marks, self.lookback, self.me)
        self.marks.update(pulled.marks)
        return Poll([str(r["Id"]) for r in pulled.rows.get(OPPORTUNITY, [])],
                    time.perf_counter() - started)


@dataclass
class Outcome:
    """One peer's three polls."""

    name: str
    discovery_calls: int = 0
    rows: list[int] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    missed_on_time: int = 0
    missed_late: int = 0
    error: str | None = None


def edit(org: Emulator, rep_id: str, ids: list[str], note: str) -> None:
    """A rep's edits of their Opportunities, one transaction each, made in the org itself:
    they are not what is measured, so they cost no API call."""
    store = org.org.store
    opp = org.org.schema.get("Opportunity")
    assert opp is not None

    def write(record_id: str) -> Callable[[], RecordResult]:
        def op() -> RecordResult:
            store.update(opp, record_id, {"NextStep": note}, rep_id)
            return RecordResult(record_id)
        return op

    for record_id in ids:
        result = store.run_batch([write(record_id)])[0]
        assert result.success, result.errors


def next_second() -> None:
    """Wait for the next second of the clock. ``SystemModstamp`` has whole seconds, as
    Salesforce's does, and polls run minutes apart in production: edits in the very second
    of the poll before them are a different case (see the report), not this benchmark's."""
    time.sleep(1.05 - time.time() % 1)


def measure(org: Emulator, client: PeerClient, edits: int, late: int, lag_ms: int) -> Outcome:
    outcome = Outcome(client.name)
    calls = org.api_calls
    client.discover()
    outcome.discovery_calls = org.api_calls - calls
    conn = org.org.store.conn
    every = {str(r[0]) for r in conn.execute("SELECT Id FROM Opportunity").fetchall()}
    rep_id = str(conn.execute("SELECT OwnerId FROM Opportunity LIMIT 1").fetchone()[0])
    ids = [str(r[0]) for r in conn.execute(  # the rep edits their own
        "SELECT Id FROM Opportunity WHERE OwnerId = ? ORDER BY Id", (rep_id,)).fetchall()]

    def poll() -> set[str]:
        before = org.api_calls
        got = client.poll()
        outcome.rows.append(len(got.ids))
        outcome.calls.append(org.api_calls - before)
        outcome.seconds.append(got.seconds)
        return set(got.ids)

    first = poll()
    outcome.missed_on_time += len(every - first)
    on_time = ids[:edits]
    next_second()
    edit(org, rep_id, on_time, "On-time edit 1")
    outcome.missed_on_time += len(set(on_time) - poll())
    late_ids, on_time = ids[edits:edits + late], ids[edits + late:2 * edits + late]
    next_second()
    org.set_knobs(late_stamp_rate=1.0, late_stamp_ms=lag_ms)
    edit(org, rep_id, late_ids, "Late commit")
    org.set_knobs(late_stamp_rate=0.0)
    edit(org, rep_id, on_time, "On-time edit 2")
    third = poll()
    outcome.missed_on_time += len(set(on_time) - third)
    outcome.missed_late = len(set(late_ids) - third)
    return outcome


Factory = Callable[[Emulator, LoginProxy, Path], PeerClient]
TWO_YEARS_AGO = (dt.datetime.now(dt.UTC) - dt.timedelta(days=730)).strftime(
    "%Y-%m-%dT%H:%M:%SZ")  # Airbyte's default start date
CLIENTS: list[tuple[str, Factory]] = [
    ("mapsync", lambda org, proxy, work: MapsyncPoll(org)),
    ("simple-salesforce", lambda org, proxy, work: SimpleSalesforceBulk(org, proxy)),
    ("tap-salesforce REST", lambda org, proxy, work: TapSalesforce(org, proxy, work, "REST")),
    ("tap-salesforce BULK", lambda org, proxy, work: TapSalesforce(org, proxy, work, "BULK")),
    ("airbyte", lambda org, proxy, work: AirbyteSalesforce(org, proxy, work, TWO_YEARS_AGO)),
]


def run(args: argparse.Namespace) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp, \
            Emulator(seed="empty", keys_dir=Path(tmp)) as org, LoginProxy(org) as proxy:
        for key, factory in CLIENTS:
            if args.only and args.only not in key:
                continue
            org.reset(seed="empty", opportunities=args.opportunities)
            client = factory(org, proxy, Path(tmp))
            print(f"  {client.name}…", flush=True)
            try:
                outcomes.append(measure(org, client, args.edits, args.late,
                                        int(args.lag_seconds * 1000)))
            except (PeerUnavailable, PeerFailed) as err:
                outcomes.append(Outcome(client.name, error=str(err)))
        if proxy.refused:
            print(f"hosts refused by the login proxy: {sorted(set(proxy.refused))}")
    return outcomes


def report(outcomes: list[Outcome], args: argparse.Namespace) -> bool:
    print(f"\n{args.opportunities:,} Opportunities; poll 2 after {args.edits} on-time edits; "
          f"poll 3 after {args.late} late commits ({args.lag_seconds:g} s late) and "
          f"{args.edits} on-time edits\n")
    head = (f"{'client':<38} {'discover':>8} {'rows read (1/2/3)':>22} "
            f"{'API calls (1/2/3)':>18} {'seconds (1/2/3)':>18} {'missed':>7} {'late missed':>12}")
    print(head)
    print("-" * len(head))
    ok = True
    for o in outcomes:
        if o.error:
            ok = False
            print(f"{o.name:<38} failed: {o.error}")
            continue
        print(f"{o.name:<38} {o.discovery_calls:>8} {'/'.join(map(str, o.rows)):>22} "
              f"{'/'.join(map(str, o.calls)):>18} "
              f"{'/'.join(f'{s:.1f}' for s in o.seconds):>18} {o.missed_on_time:>7} "
              f"{o.missed_late:>5} of {args.late:<4}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=2_000)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--late", type=int, default=20)
    parser.add_argument("--lag-seconds", type=float, default=60.0)
    parser.add_argument("--only", default="", help="run the clients whose name contains this")
    args = parser.parse_args(argv)
    if args.opportunities < 5 * (2 * args.edits + args.late):  # a rep owns one in five
        print("--opportunities must be at least 5 x (2 x --edits + --late)", file=sys.stderr)
        return 2
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print("peers against the local org (first run installs them, a few minutes)…", flush=True)
    return 0 if report(run(args), args) else 1


if __name__ == "__main__":
    raise SystemExit(main())
