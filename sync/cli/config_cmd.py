"""``mapsync config check``: the effective configuration, secrets masked, and its problems."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from config.settings import load_settings
from sync.cli.app import app, fail, run_guarded

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def check() -> None:
    """Print the effective configuration (secrets masked); exit 1 listing every problem."""

    def body() -> None:
        settings = load_settings()
        table = Table(title="mapsync configuration", show_header=True)
        table.add_column("setting")
        table.add_column("value")
        for key, value in settings.describe().items():
            table.add_row(key, value)
        Console().print(table)
        problems = settings.general_problems() + settings.salesforce_problems()
        if problems:
            raise fail(f"configuration has {len(problems)} problem(s)", problems)
        print("configuration OK")

    run_guarded(body)
