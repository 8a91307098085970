"""The product's exception tree, grouped by what the caller does about each error.

Every layer raises these, so the CLI, the sync cycle and the worker decide recovery from the
class alone; Salesforce's own errors are translated into them once, at the connector boundary
(``connectors/salesforce/errors.py``), from the ``errorCode`` by one table.

    MapsyncError                      base; ``str(err)`` is one line an admin can act on
    ├── ConfigurationError            wrong settings or files: fix the configuration, rerun
    │   └── MappingError              the stage mapping file is invalid (lists every problem)
    ├── RetryableError                transient (5xx, timeouts, row locks): retry with backoff
    ├── RateLimitedError              the API quota is spent or the budget guard tripped:
    │                                 stop the run, keep state, resume when quota returns
    ├── SkippableRecordError          this record cannot be written as it is: dead-letter it,
    │                                 report it, carry on with the rest
    ├── RecordGoneError               the record no longer exists in Salesforce: apply the
    │                                 delete locally
    ├── PlanningError                 one Opportunity cannot be planned as it is (a date
    │                                 outside Salesforce's range): dead-letter that one,
    │                                 carry on with the rest
    └── FatalError                    nothing sensible to retry (auth keeps failing, the
        └── AuthenticationError       schema is missing): stop with an alert

They live in ``config`` because it is the one package every other package may import.
"""

from __future__ import annotations


class MapsyncError(Exception):
    """Base of every error mapsync raises on purpose."""


class ConfigurationError(MapsyncError):
    """The configuration (environment, files) is wrong; ``problems`` lists each finding."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])


class MappingError(ConfigurationError):
    """The stage mapping cannot be used; ``problems`` holds every finding with its location."""


class PlanningError(MapsyncError):
    """One Opportunity's data cannot be planned (e.g. a CloseDate outside 1700..4000)."""


class SalesforceError(MapsyncError):
    """An error Salesforce answered, with its ``errorCode`` and HTTP status when known."""

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


class RetryableError(SalesforceError):
    """A transient failure: the same call may succeed later."""


class RateLimitedError(SalesforceError):
    """The org's API quota is spent (or mapsync's budget guard stopped the run)."""


class SkippableRecordError(SalesforceError):
    """One record was refused for a reason retrying will not fix."""


class RecordGoneError(SalesforceError):
    """The record was deleted in Salesforce."""


class FatalError(SalesforceError):
    """A failure no retry fixes; the run stops."""


class AuthenticationError(FatalError):
    """Salesforce refused the credentials or kept refusing the session."""
