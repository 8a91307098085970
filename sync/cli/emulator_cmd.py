"""``mapsync emulator``: run the local Salesforce org until stopped (README, Commands)."""

from __future__ import annotations

from pathlib import Path

import typer

from sync.cli.app import app, fail, run_guarded


@app.command("emulator")
def emulator(
    state_dir: Path = typer.Option(..., "--state-dir", help="Where the org keeps its data, "
                                   "emulator.env and ca.pem."),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    seed: str = typer.Option("demo", "--seed", help="demo or empty."),
    opportunities: int = typer.Option(0, "--opportunities", min=0,
                                      help="Generated Opportunities to add."),
    latency_ms: int = typer.Option(0, "--latency-ms", min=0, help="Delay added to each call."),
    fault_rate: float = typer.Option(0.0, "--fault-rate", min=0.0, max=1.0,
                                     help="Share of calls that fail (503, dropped, row lock)."),
    fault_seed: int = typer.Option(0, "--fault-seed", help="Seed for the faults."),
    daily_api_limit: int | None = typer.Option(None, "--daily-api-limit", min=1,
                                               help="Calls per 24 h before 403."),
    profile: str = typer.Option("flat", "--profile",
                                help="How long the org takes: flat (only --latency-ms) or "
                                     "realistic (a production org's latency, per-record "
                                     "write cost, Bulk queue and batches)."),
    time_scale: float = typer.Option(1.0, "--time-scale",
                                     help="Multiply every modelled duration (0.01: a "
                                          "hundred times faster)."),
) -> None:
    """Run a local Salesforce org over HTTPS; `set -a; . DIR/emulator.env` points mapsync at it."""

    def body() -> None:
        if seed not in {"demo", "empty"}:
            raise fail(f"--seed must be demo or empty (got {seed!r})", code=2)
        if profile not in {"flat", "realistic"}:
            raise fail(f"--profile must be flat or realistic (got {profile!r})", code=2)
        if not time_scale > 0:
            raise fail(f"--time-scale must be above 0 (got {time_scale})", code=2)
        from connectors.emulator.cli import run
        from connectors.emulator.server import EmulatorStartError

        try:
            run(state_dir, port=port, seed=seed, opportunities=opportunities,
                latency_ms=latency_ms, fault_rate=fault_rate, fault_seed=fault_seed,
                daily_api_limit=daily_api_limit, profile=profile, time_scale=time_scale)
        except EmulatorStartError as err:
            raise fail(str(err)) from None

    run_guarded(body)
