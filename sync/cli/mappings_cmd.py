"""``mapsync mappings ...``: the commands RevOps use on the stage mapping file.

``validate`` reads a mapping file (by default ``MAPSYNC_MAPPINGS`` or the shipped one) and
either prints a one-line summary or lists every problem, one per line, on stderr, so a broken
file is fixed in one pass and a CI job can gate on the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from config.settings import load_settings
from mappings.loader import load_mapping_report, resolve_mapping_path
from mappings.model import StageMapping
from sync.cli.app import app, fail, run_guarded

mappings_app = typer.Typer(help="Validate and inspect the stage mapping.", no_args_is_help=True)
app.add_typer(mappings_app, name="mappings")


@mappings_app.command("validate")
def validate(
    file: Path | None = typer.Argument(
        None, help="Mapping file (default: MAPSYNC_MAPPINGS, else the shipped default)."
    ),
) -> None:
    """Check a mapping file; exit 1 listing every problem with its location."""

    def body() -> None:
        path = resolve_mapping_path(file, None if file else load_settings().mapsync_mappings)
        mapping, errors, warnings, refused = load_mapping_report(path)
        if refused:  # one line: the file is not read past the bound it crossed
            raise fail(f"{path}: {errors[0]}")
        for warning in warnings:
            print(f"mapsync: warning: {warning}", file=sys.stderr)
        if mapping is None:
            noun = "problem" if len(errors) == 1 else "problems"
            raise fail(f"{path}: {len(errors)} {noun}", errors)
        print(summary(path, mapping, len(warnings)))

    run_guarded(body)


def summary(path: Path, mapping: StageMapping, warnings: int) -> str:
    """``<file>: OK, version 1, 2 templates (enterprise 12 milestones, ...), 0 warnings``."""
    templates = ", ".join(f"{t.name} {len(t.milestones)} milestones" for t in mapping.templates)
    count = len(mapping.templates)
    return (
        f"{path}: OK, version {mapping.version}, {count} template{'s' if count != 1 else ''} "
        f"({templates}), {warnings} warning{'s' if warnings != 1 else ''}"
    )
