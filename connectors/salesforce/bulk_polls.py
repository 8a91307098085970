"""When to poll a Bulk job next: every poll is an API call, every wait a job seen done late.

A job's first wait is short (a small job is done within a fraction of a second) unless jobs
were seen done before at a known pace (:meth:`connectors.salesforce.bulk.BulkJobs`); then
each wait doubles, or, once Salesforce reports records processed, is as long as the rest
should take at the rate the job goes. Of jobs processed side by side only the lead is polled
while it runs (:func:`lead_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

AGE_SHARE = 0.25  # of its age: the longest wait of a job that reports no progress
# Faster than Salesforce processes an ingest job (its internal batches are 10,000 records,
# each seconds of work): a job of unknown pace is first polled no sooner than its size takes
# at this rate, so a job of 40,000 records is not polled at 0.25, 0.75 and 1.75 s
FASTEST_RECORDS_PER_SECOND = 20_000.0
LONGEST_WAIT = 600.0  # seconds: a job that runs for hours is still polled every 10 minutes


def lead_of(polls: Sequence[Poll]) -> Poll:
    """The job to poll among jobs processed side by side: the one with the most records
    (of equal ones the last submitted), which should finish last. Polling the others
    while it runs would cost calls and gain nothing: their results are read after its."""
    return max(reversed(polls), key=lambda p: p.total) if len(polls) > 1 else polls[0]


@dataclass
class Poll:
    """When to poll one job next: its last wait, its size, when it is due."""

    path: str
    wait: float
    total: int = 0
    partial_ok: bool = False
    # a job collected across processes (``BulkApi.results_into``): one Salesforce failed
    # before processing anything is done too (its records failures), one it no longer has
    # (deleted 7 days after it ended, or by someone) is ``gone``: fatal either way, a
    # resumed run would meet it again at every attempt
    spanning: bool = False
    gone: bool = False
    due: float = 0.0
    info: dict[str, Any] | None = None
    # when it was done, seconds after the close (0: not known): between the last poll that
    # found it running (``polled_at``) and the one that found it done, halfway, so the pace
    # the next job's first wait is taken from is not that of a job seen late
    done_at: float = 0.0
    polled_at: float = 0.0
    seen: int = 0  # records processed at the last poll that saw some more
    seen_at: float = 0.0  # and when

    def __post_init__(self) -> None:
        self.due = self.wait

    def next(self, elapsed: float, processed: int, shortest: float, longest: float) -> None:
        """Schedule the poll after one at ``elapsed`` that found ``processed`` records done."""
        if self.seen < processed < self.total:
            # the rest at the rate since the last poll that saw progress: a job slows as
            # others share its org, and the rate since its start would poll early again
            # and again; at the first progress, the rate since the start (jobs start slow,
            # so a little early is likely). At most as long again as the job has run.
            if self.seen:
                rate = (processed - self.seen) / (elapsed - self.seen_at)
            else:
                rate = processed / elapsed
            self.wait = min(max((self.total - processed) / rate, shortest),
                            max(longest, elapsed))
        else:
            # No progress since the poll before: twice the last wait. A job that has run
            # long waits longer between polls: up to a quarter of its age, so a job of a
            # million records taking half an hour costs a few dozen polls, not one per
            # ``longest``, and is seen done at most a quarter of its age late.
            self.wait = min(self.wait * 2, max(longest, elapsed * AGE_SHARE))
        if processed > self.seen:
            self.seen, self.seen_at = processed, elapsed
        self.wait = min(self.wait, LONGEST_WAIT)
        self.polled_at, self.due = elapsed, elapsed + self.wait

    def done(self, elapsed: float) -> None:
        """Found done by a poll at ``elapsed``."""
        self.done_at = (self.polled_at + elapsed) / 2
