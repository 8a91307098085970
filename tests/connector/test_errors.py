"""The error table: every row of docs/salesforce.md's table becomes the class it prescribes."""

from __future__ import annotations

import json

import pytest
import responses

from config.errors import (
    AuthenticationError,
    FatalError,
    MapsyncError,
    RateLimitedError,
    RecordGoneError,
    RetryableError,
    SkippableRecordError,
)
from connectors.salesforce import SalesforceClient
from connectors.salesforce.errors import (
    ConcurrentLimitError,
    DuplicateValueError,
    Outcome,
    RecordError,
    SessionExpiredError,
    classify,
    error_from_body,
    error_from_simple_salesforce,
    record_outcome,
)
from tests.connector.conftest import API, add_token

ROWS: list[tuple[int, str | None, str, type[MapsyncError]]] = [
    (500, None, "", RetryableError),
    (502, None, "", RetryableError),
    (503, None, "", RetryableError),
    (503, "SERVER_UNAVAILABLE", "server temporarily unavailable", RetryableError),
    (400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record",
     RetryableError),
    (400, "QUERY_TIMEOUT", "Your query request was running for too long.", RetryableError),
    (401, "INVALID_SESSION_ID", "Session expired or invalid", SessionExpiredError),
    (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", RateLimitedError),
    (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.",
     ConcurrentLimitError),
    (400, "DUPLICATE_VALUE", "duplicate value found: External_Id__c duplicates value on record "
     "with id: a015g00000ABCDE", DuplicateValueError),
    (404, "ENTITY_IS_DELETED", "entity is deleted", RecordGoneError),
    (404, "NOT_FOUND", "The requested resource does not exist", RecordGoneError),
    (404, None, "", RecordGoneError),
    (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Close date must be in the future",
     SkippableRecordError),
    (400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Plan__c]",
     SkippableRecordError),
    (400, "STRING_TOO_LONG", "Name: data value too large", SkippableRecordError),
    (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "bad value for restricted picklist field",
     SkippableRecordError),
    (400, "FIELD_INTEGRITY_EXCEPTION", "field integrity exception", SkippableRecordError),
    (403, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id",
     SkippableRecordError),
    (400, "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "insufficient access",
     SkippableRecordError),
    (400, "INVALID_FIELD", "No such column 'Foo__c' on entity 'Opportunity'",
     SkippableRecordError),
    (400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: Id",
     SkippableRecordError),
    (400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", SkippableRecordError),
    (400, "MALFORMED_ID", "malformed id 006XYZ", SkippableRecordError),
    (300, None, "", SkippableRecordError),
    (400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
     "MilestoneTrigger: execution of AfterUpdate caused by: System.DmlException: Update failed. "
     "first error: UNABLE_TO_LOCK_ROW, unable to obtain exclusive access to this record",
     RetryableError),
    (400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
     "PlanFlow: Apex CPU time limit exceeded; request timed out", RetryableError),
    (400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
     "MilestoneTrigger: execution of BeforeInsert caused by: System.NullPointerException",
     SkippableRecordError),
    (400, "MALFORMED_QUERY", "unexpected token: WHERE", FatalError),
    (403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization", FatalError),
]


@pytest.mark.parametrize(("status", "code", "message", "expected"), ROWS,
                         ids=[f"{s}-{c or 'no code'}-{m[:30]}" for s, c, m, _ in ROWS])
def test_salesforce_error_becomes_the_prescribed_exception(
        status: int, code: str | None, message: str, expected: type[MapsyncError]) -> None:
    body = json.dumps([{"message": message, "errorCode": code}]) if code else ""
    error = error_from_body(status, body, "call")
    assert type(error) is expected
    assert error.error_code == code
    assert error.status == status
    if message:
        assert message in str(error)


def test_concurrent_limit_is_retryable_but_total_limit_stops_the_run() -> None:
    assert issubclass(ConcurrentLimitError, RetryableError)
    assert not issubclass(RateLimitedError, RetryableError)


def test_expired_session_is_an_authentication_error_once_it_escapes() -> None:
    assert issubclass(SessionExpiredError, AuthenticationError)


def test_duplicate_value_is_skippable_for_callers_that_do_not_reconcile() -> None:
    assert issubclass(DuplicateValueError, SkippableRecordError)


def test_unknown_code_fails_the_request_but_only_skips_a_record() -> None:
    assert classify("SOMETHING_NEW", "", 400) is Outcome.FATAL
    assert classify("SOMETHING_NEW", "", None, per_record=True) is Outcome.SKIPPABLE


def test_record_with_a_permanent_and_a_transient_error_is_not_retried() -> None:
    errors = [RecordError("UNABLE_TO_LOCK_ROW", "locked"),
              RecordError("REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]")]
    assert record_outcome(errors) is Outcome.SKIPPABLE
    assert record_outcome([RecordError("UNABLE_TO_LOCK_ROW", "locked")]) is Outcome.RETRYABLE


def test_collections_status_code_key_is_read_like_error_code() -> None:
    error = RecordError.from_json({"statusCode": "ENTITY_IS_DELETED", "message": "gone",
                                   "fields": []})
    assert record_outcome([error]) is Outcome.GONE


def test_html_error_page_from_a_proxy_is_classified_by_status() -> None:
    error = error_from_body(502, "<html><body>Bad Gateway</body></html>", "GET /limits")
    assert isinstance(error, RetryableError)
    assert "Bad Gateway" in str(error)


def test_simple_salesforce_refused_request_is_classified_by_its_error_code() -> None:
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    quota = SalesforceRefusedRequest(
        "u", 403, "r", [{"errorCode": "REQUEST_LIMIT_EXCEEDED",  # type: ignore[arg-type]
                         "message": "TotalRequests Limit exceeded."}])
    access = SalesforceRefusedRequest(
        "u", 403, "r", [{"errorCode": "INSUFFICIENT_ACCESS",  # type: ignore[arg-type]
                         "message": "no access"}])
    assert type(error_from_simple_salesforce(quota, "call")) is RateLimitedError
    assert type(error_from_simple_salesforce(access, "call")) is SkippableRecordError


@pytest.mark.parametrize(("status", "code", "message", "expected"), [
    (503, "SERVER_UNAVAILABLE", "down", RetryableError),
    (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", RateLimitedError),
    (404, "NOT_FOUND", "The requested resource does not exist", RecordGoneError),
    (400, "MALFORMED_QUERY", "unexpected token", FatalError),
])
def test_client_calls_raise_the_class_of_the_salesforce_answer(
        sf: responses.RequestsMock, client: SalesforceClient, status: int, code: str,
        message: str, expected: type[MapsyncError]) -> None:
    add_token(sf)
    attempts = 4 if issubclass(expected, RetryableError) else 1
    for _ in range(attempts):
        sf.add(responses.GET, f"{API}/sobjects/Thing__c/describe", status=status,
               json=[{"message": message, "errorCode": code}])
    with pytest.raises(expected) as caught:
        client.describe("Thing__c")
    assert type(caught.value) is expected
    assert len(sf.calls) == 1 + attempts
