"""``mapsync demo``: a local org, a full sync, the plans as a table — nothing to configure."""

from __future__ import annotations

from pathlib import Path

import typer

from sync.cli.app import app, fail, run_guarded


@app.command("demo")
def demo(state_dir: Path | None = typer.Option(
        None, "--state-dir", help="Keep the org and the store here (default: a temp dir).")
         ) -> None:
    """Start a local Salesforce org with sample data, sync it, act as reps, sync again."""
    from connectors.emulator.server import EmulatorStartError
    from sync.cli.demo import run_demo

    def body() -> int:
        try:
            return run_demo(state_dir=state_dir)
        except EmulatorStartError as err:
            raise fail(str(err)) from None

    code = run_guarded(body)
    raise typer.Exit(code)
