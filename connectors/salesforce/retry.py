"""The one retry policy of the Salesforce connector, built from settings.

Only :class:`~config.errors.RetryableError` is retried — a validation error or a spent quota
retried blindly burns the org's daily API allowance on calls that will never succeed.
Waits grow exponentially with full jitter up to ``SF_RETRY_MAX_WAIT``; attempts are bounded by
``SF_RETRY_ATTEMPTS``; after the last attempt the error itself is re-raised. The sleep is
injected so tests (and benchmarks) run without waiting for real.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import structlog
import tenacity

from config.errors import RetryableError
from config.settings import Settings
from connectors.salesforce.errors import ConcurrentLimitError

T = TypeVar("T")
log = structlog.get_logger(__name__)

Sleep = Callable[[float], None]


class RetryPolicy:
    """Exponential backoff with jitter over RetryableError, bounded, re-raising at the end."""

    def __init__(self, attempts: int, max_wait: float, sleep: Sleep = time.sleep,
                 base_wait: float = 1.0, concurrent_wait: float = 2.0,
                 rng: Callable[[], float] = random.random) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.base_wait = base_wait
        self.concurrent_wait = concurrent_wait
        self._sleep = sleep
        self._rng = rng

    @classmethod
    def from_settings(cls, settings: Settings, sleep: Sleep = time.sleep) -> RetryPolicy:
        return cls(settings.sf_retry_attempts, settings.sf_retry_max_wait, sleep)

    def wait_seconds(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        Full jitter between half and all of ``base * 2**(attempt-1)``, capped; too many
        concurrent long requests clear quickly, so that case waits at most ``concurrent_wait``.
        """
        ceiling = min(self.max_wait, self.base_wait * 2 ** (attempt - 1))
        if isinstance(error, ConcurrentLimitError):
            ceiling = min(ceiling, self.concurrent_wait)
        return ceiling * (0.5 + 0.5 * self._rng())

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return self.wait_seconds(state.attempt_number, error)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.info("salesforce.retry", attempt=state.attempt_number, of=self.attempts,
                 error=str(error), error_code=getattr(error, "error_code", None),
                 wait_seconds=round(state.next_action.sleep, 3) if state.next_action else None)

    def retrying(self) -> tenacity.Retrying:
        """A fresh tenacity controller (for ``for attempt in policy.retrying(): with attempt:``)."""
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(RetryableError),
            reraise=True,
            sleep=self._sleep,
            before_sleep=self._before_sleep,
        )

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` until it succeeds, fails permanently, or attempts run out."""
        return self.retrying()(operation)

    def sleep(self, seconds: float) -> None:
        """The injected sleep, for waits outside a retry (Bulk job polling)."""
        self._sleep(seconds)
