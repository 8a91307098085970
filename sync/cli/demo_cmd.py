"""``mapsync demo``: a local org, a full sync, the plans as a table — nothing to configure."""

from __future__ import annotations

from pathlib import Path

import typer

from sync.cli.app import app, run_guarded


@app.command("demo")
def demo(state_dir: Path | None = typer.Option(
        None, "--state-dir", help="Keep the org and the store here (default: a temp dir).")
         ) -> None:
    """Start a local Salesforce org with sample data, sync it, act as reps, sync again."""
    from sync.cli.demo import run_demo

    code = run_guarded(lambda: run_demo(state_dir=state_dir))
    raise typer.Exit(code)
