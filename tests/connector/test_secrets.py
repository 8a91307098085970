"""Secrets and access tokens never reach a log line, an exception message or a repr."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
import structlog
from pydantic import SecretStr

from connectors.salesforce import SalesforceClient
from tests.connector.conftest import API, TOKEN_URL, make_settings, token_payload

PASSWORD = "Tr0ub4dor&3-sEcUrItYtOkEn9x"
FIRST_TOKEN = "00D5g000000AbCd!AQ4AQfirstSessionTokenAbCdEfGhIjKlMnOpQr"
SECOND_TOKEN = "00D5g000000AbCd!AQ4AQsecondSessionTokenZyXwVuTsRqPoNmLk"
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """structlog at debug into a buffer, and the stdlib loggers of urllib3 and requests."""
    buffer = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(file=buffer))
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", ""):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()


def test_no_secret_or_token_in_logs_errors_or_reprs(
        captured_logs: io.StringIO, caplog: pytest.LogCaptureFixture, rsa_key_file: Path) -> None:
    settings = make_settings(sf_username="integration@acme.example",
                             sf_password=SecretStr(PASSWORD), sf_retry_attempts=2)
    secrets = [settings.sf_client_secret.get_secret_value() if settings.sf_client_secret else "",
               PASSWORD, FIRST_TOKEN, SECOND_TOKEN, rsa_key_file.read_text().splitlines()[1]]
    slept: list[float] = []
    client = SalesforceClient(settings, sleep=slept.append)
    seen: list[str] = []
    with responses.RequestsMock(assert_all_requests_are_fired=True) as sf:
        sf.add(responses.POST, TOKEN_URL, status=400, json={
            "error": "invalid_grant", "error_description": f"password {PASSWORD} is wrong"})
        sf.add(responses.POST, TOKEN_URL, json=token_payload(FIRST_TOKEN))
        sf.add(responses.GET, f"{API}/limits", status=401, json=EXPIRED)
        sf.add(responses.POST, TOKEN_URL, json=token_payload(SECOND_TOKEN))
        sf.add(responses.GET, f"{API}/limits", json={"DailyApiRequests": {}})
        sf.add(responses.GET, f"{API}/sobjects/X/describe",
               body=requests.ConnectionError(f"reset while sending Bearer {SECOND_TOKEN}"))
        sf.add(responses.GET, f"{API}/sobjects/X/describe", status=400,
               json=[{"errorCode": "INVALID_TYPE", "message": "sObject type 'X' is not "
                                                             "supported"}])
        for action in (client.connect, client.limits, lambda: client.describe("X")):
            try:
                action()
            except Exception as err:  # every failure's text is checked below
                seen += [str(err), repr(err)]
                logging.getLogger("test").exception("failed")
                structlog.get_logger("test").exception("failed")
        seen += [repr(client), repr(client.token), str(client.token), repr(client.usage)]
    jwt_settings = make_settings(sf_client_secret=None, sf_username="integration@acme.example",
                                 sf_private_key_file=rsa_key_file)
    jwt_client = SalesforceClient(jwt_settings, sleep=slept.append)
    with responses.RequestsMock() as sf:
        sf.add(responses.POST, TOKEN_URL, status=400,
               json={"error": "invalid_grant", "error_description": "user hasn't approved"})
        try:
            jwt_client.connect()
        except Exception as err:
            seen += [str(err), repr(err)]
            assertion = sf.calls[0].request.body
            secrets.append(str(assertion).split("assertion=")[1][:60])
    text = "\n".join([captured_logs.getvalue(), caplog.text, *seen])
    assert "salesforce.session.expired" in captured_logs.getvalue()
    assert "invalid_grant" in text
    for secret in secrets:
        assert secret
        assert secret not in text, f"a secret leaked: {secret[:6]}…"
