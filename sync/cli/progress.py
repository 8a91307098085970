"""Progress of a long job (backfill, reconcile): a rich bar on a terminal, log lines otherwise.

While the bar is live, mapsync's log lines go through rich's console (its stderr proxy), so a
warning printed mid-job lands above the bar instead of tearing it.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from config.logging import logs_to

Update = Callable[[int, int], None]  # (records done, total)


class RateColumn(ProgressColumn):
    """Records per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else f"{speed:,.0f} rec/s")


@contextmanager
def progress_of(label: str, log: Any, console: Console | None = None) -> Iterator[Update]:
    """An ``update(done, total)`` for the job: a bar when stderr is a terminal (or
    ``console`` is given), else one ``"<label> progress"`` log line per update."""
    if console is not None or sys.stderr.isatty():
        bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                       TaskProgressColumn(), RateColumn(), TimeElapsedColumn(),
                       TimeRemainingColumn(), console=console or Console(stderr=True))
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        # While the bar is live, sys.stderr is rich's proxy: log lines sent there are
        # printed above the bar.
        with bar, logs_to(sys.stderr):
            yield update
        return

    started = dt.datetime.now(dt.UTC)

    def log_line(done: int, total: int) -> None:
        elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds() or 1e-9
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else None
        log.info(f"{label} progress", done=done, total=total, rate_per_s=round(rate, 1),
                 eta_s=round(eta) if eta is not None else None)

    yield log_line
