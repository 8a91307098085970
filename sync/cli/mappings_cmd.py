"""``mapsync mappings ...``: the commands RevOps use on the stage mapping file.

``validate`` reads a mapping file (by default ``MAPSYNC_MAPPINGS`` or the shipped one) and
either prints a one-line summary or lists every problem, one per line on stderr as
``file:line:column: message`` (the form editors and CI annotations jump to), so a broken file
is fixed in one pass and a CI job can gate on the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from config.settings import load_settings
from mappings.loader import load_mapping_report, parse_yaml, resolve_mapping_path
from mappings.model import StageMapping
from mappings.positions import Path_, with_location
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
        positions = _positions(path)

        def located(message: str, severity: str = "") -> str:
            if positions is None:  # unreadable: the message names the file itself
                return f"{severity + ': ' if severity else ''}{message}"
            return with_location(str(path), message, positions, severity)

        for warning in warnings:
            print(located(warning, "warning"), file=sys.stderr)
        if mapping is None:
            noun = "problem" if len(errors) == 1 else "problems"
            print(f"mapsync: {path}: {len(errors)} {noun}", file=sys.stderr)
            for error in errors:
                print(located(error), file=sys.stderr)
            raise typer.Exit(1)
        print(summary(path, mapping, len(warnings)))

    run_guarded(body)


def _positions(path: Path) -> dict[Path_, tuple[int, int]] | None:
    """Where each value of the file is; ``None`` when the file cannot be read at all."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return parse_yaml(text)[2]


def summary(path: Path, mapping: StageMapping, warnings: int) -> str:
    """``<file>: OK, version 1, 2 templates (enterprise 12 milestones, ...), 0 warnings``."""
    templates = ", ".join(f"{t.name} {len(t.milestones)} milestones" for t in mapping.templates)
    count = len(mapping.templates)
    return (
        f"{path}: OK, version {mapping.version}, {count} template{'s' if count != 1 else ''} "
        f"({templates}), {warnings} warning{'s' if warnings != 1 else ''}"
    )
