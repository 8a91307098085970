"""The one table that turns Salesforce's errors into the product's exception tree.

Salesforce answers a failed request with ``[{"message", "errorCode", "fields"}]`` and a failed
record inside a Collections result with ``{"statusCode", "message", "fields"}``; both go through
:func:`classify`, which decides from the ``errorCode`` (and the HTTP status when there is no
code), never from the class of exception a library happened to raise — simple-salesforce raises
the same ``SalesforceRefusedRequest`` for a spent quota and a missing permission.

Outcomes and the classes they become (``config.errors``)::

    retryable    RetryableError         5xx, SERVER_UNAVAILABLE, UNABLE_TO_LOCK_ROW, QUERY_TIMEOUT,
                                        connection errors and timeouts
    concurrent   ConcurrentLimitError   REQUEST_LIMIT_EXCEEDED about concurrent requests
                                        (a RetryableError the policy backs off briefly for)
    rate_limited RateLimitedError       REQUEST_LIMIT_EXCEEDED about total requests
    session      SessionExpiredError    INVALID_SESSION_ID / 401 (re-authenticate once)
    gone         RecordGoneError        ENTITY_IS_DELETED, 404
    duplicate    DuplicateValueError    DUPLICATE_VALUE (reconcile by external id)
    skippable    SkippableRecordError   validation, access, bad references, upsert 300
    fatal        FatalError             anything else the request as a whole cannot survive
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from config.errors import (
    ConcurrentLimitError,
    ConfigurationError,
    DuplicateValueError,
    FatalError,
    MapsyncError,
    RateLimitedError,
    RecordGoneError,
    RetryableError,
    SessionExpiredError,
    SkippableRecordError,
)


class Outcome(StrEnum):
    """What the caller does about an error (and, for records, about a success)."""

    OK = "ok"
    RETRYABLE = "retryable"
    CONCURRENT = "concurrent"
    RATE_LIMITED = "rate_limited"
    SESSION = "session"
    GONE = "gone"
    DUPLICATE = "duplicate"
    SKIPPABLE = "skippable"
    FATAL = "fatal"


RETRYABLE_CODES = frozenset({
    "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW", "QUERY_TIMEOUT", "REQUEST_RUNNING_TOO_LONG",
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",  # the record was fine; another one failed the batch
})
GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND"})
SKIPPABLE_CODES = frozenset({
    "FIELD_CUSTOM_VALIDATION_EXCEPTION", "REQUIRED_FIELD_MISSING", "STRING_TOO_LONG",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "FIELD_INTEGRITY_EXCEPTION",
    "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID", "MULTIPLE_CHOICES",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "FIELD_FILTER_VALIDATION_EXCEPTION", "INVALID_EMAIL_ADDRESS", "NUMBER_OUTSIDE_VALID_RANGE",
    "DUPLICATE_EXTERNAL_ID", "INVALID_ID_FIELD", "ENTITY_IS_LOCKED",
})
SKIPPABLE_PREFIXES = ("INSUFFICIENT_ACCESS", "INVALID_FIELD")
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# A trigger or flow failed; only a lock or timeout underneath is worth another attempt.
_TRANSIENT_WRAPPED = ("UNABLE_TO_LOCK_ROW", "QUERY_TIMEOUT", "unable to obtain exclusive access",
                      "timed out", "timeout")

_CLASSES: dict[Outcome, type[MapsyncError]] = {
    Outcome.RETRYABLE: RetryableError,
    Outcome.CONCURRENT: ConcurrentLimitError,
    Outcome.RATE_LIMITED: RateLimitedError,
    Outcome.SESSION: SessionExpiredError,
    Outcome.GONE: RecordGoneError,
    Outcome.DUPLICATE: DuplicateValueError,
    Outcome.SKIPPABLE: SkippableRecordError,
    Outcome.FATAL: FatalError,
}


def classify(code: str | None, message: str = "", status: int | None = None,
             *, per_record: bool = False) -> Outcome:
    """The outcome of one Salesforce error, by ``errorCode`` first and HTTP status second.

    ``per_record`` is for an error inside a Collections result: an unknown code there spoils
    one record, not the run, so it is skippable rather than fatal.
    """
    if code == "INVALID_SESSION_ID" or (code is None and status == 401):
        return Outcome.SESSION
    if code == "REQUEST_LIMIT_EXCEEDED":
        return Outcome.CONCURRENT if "concurren" in message.lower() else Outcome.RATE_LIMITED
    if code in RETRYABLE_CODES:
        return Outcome.RETRYABLE
    if code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY":
        lowered = message.lower()
        transient = any(marker.lower() in lowered for marker in _TRANSIENT_WRAPPED)
        return Outcome.RETRYABLE if transient else Outcome.SKIPPABLE
    if code in GONE_CODES:
        return Outcome.GONE
    if code == "DUPLICATE_VALUE":
        return Outcome.DUPLICATE
    if code is not None and (code in SKIPPABLE_CODES or code.startswith(SKIPPABLE_PREFIXES)):
        return Outcome.SKIPPABLE
    if status in RETRYABLE_STATUSES:
        return Outcome.RETRYABLE
    if status == 404:
        return Outcome.GONE
    if status == 300:
        return Outcome.SKIPPABLE
    if status == 401:
        return Outcome.SESSION
    return Outcome.SKIPPABLE if per_record else Outcome.FATAL


@dataclass(frozen=True)
class RecordError:
    """One error Salesforce reported for one record."""

    code: str
    message: str
    fields: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> RecordError:
        code = item.get("errorCode") or item.get("statusCode") or "UNKNOWN_ERROR"
        return cls(str(code), str(item.get("message", "")), [str(f) for f in item.get("fields")
                                                                 or []])


RECORD_OUTCOMES = frozenset({Outcome.OK, Outcome.RETRYABLE, Outcome.SKIPPABLE, Outcome.GONE,
                             Outcome.DUPLICATE})


def record_outcome(errors: Iterable[RecordError]) -> Outcome:
    """The outcome of one failed record, always one of ``RECORD_OUTCOMES``: retryable only when
    every error is transient; any permanent error makes it gone, a duplicate or skippable."""
    outcomes = [classify(e.code, e.message, per_record=True) for e in errors]
    if not outcomes:
        return Outcome.SKIPPABLE
    for decisive in (Outcome.GONE, Outcome.DUPLICATE, Outcome.SKIPPABLE, Outcome.FATAL,
                     Outcome.SESSION):
        if decisive in outcomes:
            return decisive if decisive in RECORD_OUTCOMES else Outcome.SKIPPABLE
    return Outcome.RETRYABLE


def error_for(outcome: Outcome, message: str, code: str | None = None,
              status: int | None = None, fields: list[str] | None = None) -> MapsyncError:
    """The exception the product raises for ``outcome``."""
    return _CLASSES.get(outcome, FatalError)(message, error_code=code, status=status,
                                             fields=fields)


def parse_error_body(status: int, body: str) -> list[RecordError]:
    """The errors of a failed response, whatever shape Salesforce (or a proxy) gave them."""
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        payload = [payload]
    errors = [RecordError.from_json(item) for item in payload or []
              if isinstance(item, Mapping) and ("errorCode" in item or "statusCode" in item
                                                or "message" in item)]
    if errors:
        return errors
    snippet = " ".join(body.split())[:200] if body else ""
    return [RecordError(f"HTTP_{status}", snippet or f"HTTP {status} without a body")]


def error_from_body(status: int, body: str, context: str) -> MapsyncError:
    """The exception for a failed response: its first error decides, messages are joined."""
    errors = parse_error_body(status, body)
    first = errors[0]
    code = None if first.code.startswith("HTTP_") else first.code
    outcome = classify(code, first.message, status)
    details = "; ".join(f"{e.code}: {e.message}" for e in errors)
    fields = [f for e in errors for f in e.fields]
    return error_for(outcome, f"{context} failed ({status}): {details}", code, status, fields)


def error_from_network(err: Exception, context: str) -> MapsyncError | ConfigurationError:
    """A request that got no answer: retryable, except a certificate the configured trust
    cannot verify, which no retry fixes."""
    text = f"{context}: {type(err).__name__}: {err}"
    if "CERTIFICATE_VERIFY_FAILED" in str(err) or "certificate verify failed" in str(err):
        return ConfigurationError(
            f"{text} — the server's TLS certificate is not trusted; for the emulator set "
            "SF_CA_BUNDLE to its ca.pem", problems=["SF_CA_BUNDLE does not hold the server's CA"])
    return RetryableError(text)


def unreachable_reason(err: BaseException) -> str | None:
    """Why a host could not be reached at all — its name does not resolve, or nothing listens
    on its port — or ``None`` for failures a retry may cure (timeouts, resets, 5xx).

    Walks the chain requests and urllib3 wrap the socket error in (``ConnectionError`` →
    ``MaxRetryError`` → ``NewConnectionError`` → ``gaierror`` / ``ConnectionRefusedError``).
    """
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and not any(current is s for s in seen):
        seen.append(current)
        if isinstance(current, socket.gaierror):
            return f"the name does not resolve ({current.strerror or current})"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused (nothing listens on that port)"
        reason = getattr(current, "reason", None)
        wrapped = current.args[0] if current.args else None
        current = (reason if isinstance(reason, BaseException)
                   else current.__cause__ or current.__context__
                   or (wrapped if isinstance(wrapped, BaseException) else None))
    return None


def error_from_simple_salesforce(exc: Exception, context: str) -> MapsyncError:
    """Translate a simple-salesforce exception by the ``errorCode`` in its content."""
    status = int(getattr(exc, "status", 0) or 0)
    content = getattr(exc, "content", None)
    body = content if isinstance(content, str) else json.dumps(content) if content else ""
    return error_from_body(status, body, context)
