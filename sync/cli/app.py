"""The ``mapsync`` command tree and the one place errors become exit codes.

Each command group lives in its own module (``sync/cli/<group>.py``) and is registered here.
Every command fails the same way: one clear line on stderr, exit code 1 (2 for usage errors,
from typer), never a traceback for an error mapsync raised on purpose.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import typer

from config.errors import ConfigurationError, MapsyncError

app = typer.Typer(
    name="mapsync",
    help="Mutual Action Plans inside Salesforce: plans, milestones and slip, kept in sync.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def installed_version() -> str:
    try:
        return package_version("mapsync")
    except PackageNotFoundError:  # pragma: no cover - running from a tree not installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        print(f"mapsync {installed_version()}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Show every log line (LOG_LEVEL=DEBUG), libraries' too."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print mapsync's version and exit."),
) -> None:
    """Mutual Action Plans inside Salesforce: plans, milestones and slip, kept in sync."""
    if verbose:
        # Through the environment, so every command (and any process it starts) sees it.
        os.environ["LOG_LEVEL"] = "DEBUG"


def fail(message: str, details: list[str] | None = None, code: int = 1) -> typer.Exit:
    """Print one clear line (and optional detail lines) on stderr; return the Exit to raise."""
    print(f"mapsync: {message}", file=sys.stderr)
    for line in details or []:
        print(f"  - {line}", file=sys.stderr)
    return typer.Exit(code)


def run_guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body, turning mapsync's own errors into one line and exit 1."""
    try:
        return fn()
    except ConfigurationError as err:
        if len(err.problems) <= 1:  # the message already says it, in one line
            raise fail(str(err)) from None
        raise fail(str(err).split(": ", 1)[0], err.problems) from None
    except MapsyncError as err:
        raise fail(str(err)) from None


def main() -> None:
    app()
