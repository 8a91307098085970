"""Salesforce's error shapes, raised inside the org and written out as Salesforce writes them.

Two shapes exist. A request that fails as a whole answers an HTTP error status with a JSON
array ``[{"message", "errorCode", "fields"?}]`` (``ApiError``). A record that fails inside a
request that otherwise succeeds (sObject Collections, Composite) carries
``{"statusCode", "message", "fields"}`` in its own result (``RecordError``). Clients classify
on the code, so the codes and messages here are Salesforce's.

    ApiError (exception, whole request: status + errorCode)
    RecordError (value, one record: statusCode)
    RecordFailed (exception carrying RecordErrors while a record is written)
"""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_FOUND_MESSAGE = "The requested resource does not exist"
ROLLED_BACK_MESSAGE = ("Record rolled back because not all records were valid and the request "
                       "was using AllOrNone header")


class ApiError(Exception):
    """A request-level failure: HTTP ``status`` with one error entry."""

    def __init__(self, status: int, error_code: str, message: str,
                 fields: list[str] | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.extra: list[dict[str, object]] = []  # further errors of the same request

    def body(self) -> list[dict[str, object]]:
        entry: dict[str, object] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry, *self.extra]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


@dataclass(frozen=True)
class RecordError:
    """Why one record was not written, in the shape Collections answers it."""

    status_code: str
    message: str
    fields: list[str] = field(default_factory=list)
    # bad value formats are a JSON_PARSER_ERROR when one record is sent alone
    parse_error: bool = False

    def to_json(self) -> dict[str, object]:
        return {"statusCode": self.status_code, "message": self.message, "fields": self.fields}

    def as_api_error(self) -> ApiError:
        if self.parse_error:
            return ApiError(400, "JSON_PARSER_ERROR", self.message.split(": ", 1)[-1])
        status = 404 if self.status_code in ("ENTITY_IS_DELETED", "NOT_FOUND") else 400
        return ApiError(status, self.status_code, self.message, self.fields)


class RecordFailed(Exception):
    """Raised while writing one record; the record's result carries ``errors``."""

    def __init__(self, *errors: RecordError) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


@dataclass
class RecordResult:
    """The outcome of writing one record (``{id, success, errors[, created]}``)."""

    id: str | None
    errors: list[RecordError] = field(default_factory=list)
    created: bool | None = None

    @property
    def success(self) -> bool:
        return not self.errors

    def to_json(self, with_created: bool = False) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "success": self.success,
                                  "errors": [e.to_json() for e in self.errors]}
        if with_created:
            out["created"] = bool(self.created) if self.success else False
        return out


def record_errors_as_api_error(errors: list[RecordError]) -> ApiError:
    """A single-record REST write's failure, answered the way Salesforce does."""
    first = errors[0].as_api_error()
    if len(errors) > 1 and not errors[0].parse_error:
        first.extra = [{"message": e.message, "errorCode": e.status_code, "fields": e.fields}
                       for e in errors[1:]]
    return first
