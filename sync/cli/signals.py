"""One stop mechanism for the whole process: signals request a stop on the run's token.

The first SIGTERM or SIGINT asks politely: the token is set, the run in flight finishes its
step, commits what landed and ends (a worker then exits, a backfill pauses, resumable). A
second signal escalates: the default handler is put back and the signal raised again, so the
process ends at once, as it would have without mapsync's handler (nothing is lost: whatever
was not committed is repeated by the next run, and upserts make that safe).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config.logging import get_logger
from sync.cycle import StopToken

log = get_logger("mapsync.signals")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(token: StopToken, what: str) -> Iterator[StopToken]:
    """While inside, SIGTERM/SIGINT request a stop on ``token``; a second one escalates."""
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if token.requested:
            log.warning("second signal: stopping now", signal=name)
            for sig, old in previous.items():
                signal.signal(sig, old)
            signal.raise_signal(signum)
            return
        token.request(f"{name} received")
        log.warning(f"stop requested: {what}", signal=name)

    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield token
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
