"""Run the local org from a terminal until stopped (``mapsync emulator`` calls ``run``).

The org lives in ``state_dir``: its SQLite file (so a restart keeps the records),
credentials, JWT key pair, ``ca.pem`` and ``emulator.env`` with the settings that point
mapsync at it (``set -a; . DIR/emulator.env``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from connectors.emulator.knobs import DEFAULT_DAILY_API_LIMIT
from connectors.emulator.profile import PROFILES, profile_named
from connectors.emulator.seed import SEEDS
from connectors.emulator.server import Emulator, EmulatorStartError


def run(state_dir: Path, port: int = 0, seed: str = "demo", opportunities: int = 0,
        latency_ms: int = 0, fault_rate: float = 0.0, fault_seed: int = 0,
        daily_api_limit: int | None = None,
        automation_dirs: list[Path] | None = None, profile: str = "flat",
        time_scale: float = 1.0) -> None:
    """Serve the org in ``state_dir`` until SIGTERM or Ctrl-C. ``profile`` names how long
    the org takes (``flat`` or ``realistic``), its draws seeded by ``fault_seed``."""
    timing = profile_named(profile, time_scale, fault_seed)
    org = Emulator(Path(state_dir), seed=seed, opportunities=opportunities,
                   latency_ms=latency_ms, fault_rate=fault_rate, fault_seed=fault_seed,
                   daily_api_limit=daily_api_limit, port=port,
                   automation_dirs=automation_dirs, profile=timing)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        org.start()
    except BaseException:
        org.stop()
        raise
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        env = org.write_env()
        print(f"Local Salesforce org at {org.instance_url}", flush=True)
        print(f"  settings: {env}   (set -a; . {env})", flush=True)
        print(f"  CA: {org.ca_file}   user: {org.username}", flush=True)
        if timing.name != "flat" or timing.time_scale != 1:
            print(f"  profile: {timing.name}, time scale {timing.time_scale:g}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        org.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        print("Local Salesforce org stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.emulator",
                                     description="Run a local Salesforce org over HTTPS.")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", choices=SEEDS, default="demo")
    parser.add_argument("--opportunities", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=0,
                        help="seed of every random draw (faults, the profile's timings)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="flat",
                        help="how long the org takes: flat (only --latency-ms) or realistic "
                             "(a production org's latency, write cost and Bulk queue)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply every modelled duration (0.01: a hundred times faster)")
    parser.add_argument("--daily-api-limit", type=int, default=None,
                        help=f"default {DEFAULT_DAILY_API_LIMIT}")
    parser.add_argument("--automation-dir", type=Path, action="append", default=[],
                        help="an sfdx source tree whose validation rules the org enforces "
                             "(repeatable)")
    args = parser.parse_args(argv)
    try:
        for directory in args.automation_dir:
            if not directory.is_dir():
                raise ValueError(f"--automation-dir {directory} is not a directory")
        run(args.state_dir, args.port, args.seed, args.opportunities, args.latency_ms,
            args.fault_rate, args.fault_seed, args.daily_api_limit, args.automation_dir,
            args.profile, args.time_scale)
    except (OSError, ValueError, EmulatorStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
