"""The product's exception tree, grouped by what the caller does about each error.

Every layer raises these, so the CLI, the cycle and the jobs decide recovery from the class
alone. Salesforce's own errors are translated into them once, at the connector boundary
(``connectors/salesforce/errors.py``), from the ``errorCode`` by one table; such an error
carries Salesforce's ``error_code``, HTTP ``status`` and ``fields``, whatever its class.

    MapsyncError                      base; ``str(err)`` is one line an admin can act on
    ├── ConfigurationError            wrong settings or files: fix them, rerun
    │   ├── MappingError              the stage mapping file is invalid (every problem listed)
    │   └── SchemaOutOfDateError      the store's schema is not this version's (sync.store)
    ├── AuthenticationError           Salesforce refused the credentials: fix them, rerun
    │   └── SessionExpiredError       the token expired: re-authenticate once, retry
    ├── RetryableError                passing (5xx, timeouts, row locks): retry with backoff
    │   ├── ConcurrentLimitError      too many long requests at once: back off briefly
    │   └── DatabaseUnavailableError  the store cannot be reached now (sync.store)
    ├── RateLimitedError              the API quota is spent or the budget guard tripped:
    │                                 stop the run, keep state, resume when quota returns
    ├── StopRequested                 the process was asked to stop: commit what landed
    ├── SkippableRecordError          this record cannot be written as it is: dead-letter it,
    │   │                             report it, carry on with the rest
    │   ├── DuplicateValueError       a retried create landed the first time: reconcile
    │   └── RecordGoneError           the record no longer exists: apply the delete locally
    ├── PlanningError                 one Opportunity cannot be planned: dead-letter it
    ├── NothingToResumeError          ``--resume`` found no paused or interrupted backfill
    ├── LeaseLostError                another worker holds the org now: stop writing
    └── FatalError                    nothing sensible to retry: stop with an alert

They live in ``config`` because it is the one package every other package may import.
"""

from __future__ import annotations


class MapsyncError(Exception):
    """Base of every error mapsync raises on purpose.

    ``error_code``, ``status`` and ``fields`` are Salesforce's, when Salesforce answered."""

    def __init__(
        self,
        message: str,
        error_code: str | None = None,
        status: int | None = None,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status
        self.fields: list[str] = list(fields or [])


class ConfigurationError(MapsyncError):
    """The configuration (environment, files) is wrong; ``problems`` lists each finding."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])


class MappingError(ConfigurationError):
    """The stage mapping cannot be used; ``problems`` holds every finding with its location."""


class AuthenticationError(MapsyncError):
    """Salesforce refused the credentials or kept refusing the session."""


class SessionExpiredError(AuthenticationError):
    """The access token is no longer valid; the client re-authenticates once and retries."""


class RetryableError(MapsyncError):
    """A passing failure: the same call may succeed later."""


class ConcurrentLimitError(RetryableError):
    """Too many long-running requests at once: back off briefly, then retry."""


class RateLimitedError(MapsyncError):
    """The org's API quota is spent (or mapsync's budget guard stopped the run)."""


class StopRequested(MapsyncError):
    """The run was asked to stop (a signal, a lost lease) and did so at a safe point."""


class SkippableRecordError(MapsyncError):
    """One record was refused for a reason retrying will not fix."""


class DuplicateValueError(SkippableRecordError):
    """A unique value already exists: usually a retried create whose first attempt landed, so
    the caller reconciles by external id instead of dead-lettering."""


class RecordGoneError(SkippableRecordError):
    """The record was deleted in Salesforce."""


class PlanningError(MapsyncError):
    """One Opportunity cannot be planned (a value outside what the planner accepts)."""


class NothingToResumeError(MapsyncError):
    """``--resume`` was asked for, but no paused or interrupted backfill exists."""


class LeaseLostError(MapsyncError):
    """Another worker took the org's lease: this one must not write."""


class FatalError(MapsyncError):
    """A failure no retry fixes; the run stops."""
