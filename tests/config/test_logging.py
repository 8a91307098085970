"""Logging never prints a secret: not from settings, not an access token, not in a traceback."""

from __future__ import annotations

import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
import structlog

from config.logging import bind_run, configure_logging, get_logger
from config.settings import load_settings

CLIENT_SECRET = "Q9x!client-secret-7f3a9b"
PASSWORD = "Tr0ub4dor&3-password"
DB_PASSWORD = "pg-pass-5521"
ACCESS_TOKEN = "00D5g000004XyZ1!AQ0AQHm1u7.Zx2wVb3_tokenbody"


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(400)
        self.end_headers()
        self.wfile.write(b'{"error":"invalid_grant"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    monkeypatch.setenv("SF_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SF_PASSWORD", PASSWORD)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://svc:{DB_PASSWORD}@localhost/db")
    settings = load_settings()
    out = io.StringIO()
    configure_logging("json", "DEBUG", secrets=settings.secret_values(), stream=out)
    yield out
    configure_logging("json", "INFO", stream=io.StringIO())


def test_secrets_and_tokens_never_reach_the_log(captured: io.StringIO) -> None:
    log = get_logger("mapsync.test")
    server = HTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with bind_run(run_id="r1", org="00D000000000001"):
            # A request carrying secrets in its body and query, logged by urllib3 at DEBUG.
            url = f"http://127.0.0.1:{server.server_port}/services/oauth2/token"
            resp = requests.post(
                url + f"?password={PASSWORD}",
                data={"client_secret": CLIENT_SECRET, "grant_type": "password"},
                timeout=5,
            )
            log.info("token request", url=resp.url, status=resp.status_code,
                     headers={"Authorization": f"Bearer {ACCESS_TOKEN}"})
            log.warning("login failed", detail=f"secret was {CLIENT_SECRET}", token=ACCESS_TOKEN)
            try:
                raise RuntimeError(f"connect failed with {PASSWORD} and {ACCESS_TOKEN}")
            except RuntimeError:
                log.exception("request crashed")
            logging.getLogger("simple_salesforce").error(
                "session %s refused for %s", ACCESS_TOKEN, DB_PASSWORD
            )
    finally:
        server.shutdown()
    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(line.get("event") == "token request" for line in lines)
    assert any(line.get("run_id") == "r1" for line in lines)
    assert any("urllib3" in str(line.get("logger")) for line in lines)  # requests were logged
    for secret in (CLIENT_SECRET, PASSWORD, DB_PASSWORD, ACCESS_TOKEN, "AQ0AQHm1u7"):
        assert secret not in text


def test_console_format_is_readable_text(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    configure_logging("console", "INFO", stream=out)
    structlog.get_logger("x").info("cycle finished", written=3)
    assert "cycle finished" in out.getvalue()
    assert "written=3" in out.getvalue()
    assert not out.getvalue().lstrip().startswith("{")
