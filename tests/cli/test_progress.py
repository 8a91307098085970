"""A log line printed while a progress bar is live lands above the bar, not through it."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from config.logging import configure_logging, get_logger
from sync.cli.progress import progress_of


def test_log_lines_during_a_live_bar_go_through_the_bars_console(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("console", "INFO")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    with progress_of("backfill", get_logger("test"), console=console) as update:
        update(10, 100)
        logging.getLogger("mapsync.test").warning("row lock on 006xx, retrying")
        update(20, 100)
    logging.getLogger("mapsync.test").warning("after the bar")
    out = screen.getvalue()
    assert "row lock on 006xx, retrying" in out
    line = next(li for li in out.splitlines() if "row lock" in li)
    assert "━" not in line  # the bar is redrawn below the line, not spliced into it
    err = capsys.readouterr().err
    assert "row lock" not in err
    assert "after the bar" in err  # and back to stderr once the bar is gone
