"""API usage of one run: calls this client made, the org's daily usage, and the budget guard.

Every REST request under ``/services/data/vNN.0`` costs one call of the org's rolling 24-hour
allowance, which other integrations share. Salesforce reports the org's usage on every
response (``Sforce-Limit-Info: api-usage=USED/MAX``); the guard refuses to make another call
once usage passes the configured share of the daily limit, so a run stops cleanly with its state
kept and resumes when the quota returns, instead of starving the org's other integrations.

Every response also carries Salesforce's clock (the HTTP ``Date`` header): a poll moves its read
position to the server's time of the poll, never to the local clock, which may be skewed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from config.errors import RateLimitedError

_FIRST_PAIR = re.compile(r"^\s*api-usage\s*=\s*(\d+)\s*/\s*(\d+)")
_COUNTED_PATH = re.compile(r"^/services/data/v\d+\.\d+(/|$)")


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """``(used, max)`` from a ``Sforce-Limit-Info`` value; ``None`` when it carries no usage.

    Only the first pair is read; what follows (``; api-bursts=…``, ``; per-app-api-usage=…``)
    is tolerated and ignored.
    """
    if not header:
        return None
    match = _FIRST_PAIR.match(header)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 7231 ``Date`` header as an aware datetime; ``None`` when absent or malformed."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def is_counted(url: str) -> bool:
    """Whether a request to ``url`` costs one API call (token requests and the versions list do
    not)."""
    return bool(_COUNTED_PATH.match(urlsplit(url).path))


@dataclass
class ApiUsage:
    """What one client has spent: its own calls, and the org's usage as last reported."""

    budget_share: float
    calls: int = 0
    used: int | None = None
    max: int | None = None
    server_time: datetime | None = None  # Salesforce's clock at its last response
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def share_used(self) -> float | None:
        """The org's usage as a fraction of its daily limit, when known."""
        if self.used is None or not self.max:
            return None
        return self.used / self.max

    def guard(self) -> None:
        """Raise RateLimitedError instead of making a call the budget no longer allows."""
        share = self.share_used
        if share is not None and share >= self.budget_share:
            raise RateLimitedError(
                f"API budget reached: {self.used} of {self.max} "
                f"({share:.0%}, budget {self.budget_share:.0%} of the daily limit); "
                "the run stops here and resumes when the org's usage falls",
                error_code="API_BUDGET_REACHED",
            )

    def new_run(self) -> None:
        """Forget the org's last reported usage: a new run learns it again from its first
        response, so a run after the quota came back is not refused on stale figures."""
        with self._lock:
            self.used = self.max = None

    def record(self, url: str, limit_info: str | None, date: str | None = None) -> None:
        """Account for one response: count it if it cost a call, keep the reported usage and
        the server's time."""
        pair = parse_limit_info(limit_info)
        when = parse_http_date(date)
        with self._lock:
            if is_counted(url):
                self.calls += 1
            if pair is not None:
                self.used, self.max = pair
            if when is not None:
                self.server_time = when

    def snapshot(self) -> dict[str, int | float | None]:
        """Plain figures for logs, the run record and ``mapsync status``."""
        return {"calls": self.calls, "used": self.used, "max": self.max,
                "share_used": self.share_used, "budget_share": self.budget_share}
