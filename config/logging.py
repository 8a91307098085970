"""Logging: structlog set up once, with secrets and access tokens scrubbed from every line.

JSON lines by default (what a Procfile platform collects), readable console output on a
terminal. Standard-library loggers (urllib3, simple-salesforce, alembic, APScheduler) go
through the same processors, so nothing reaches the output without passing the redactor.
Context (run id, org, object) is bound per run with :func:`bind_run`.

Quiet by default: the libraries' routine INFO lines (Alembic's "Context impl SQLiteImpl",
APScheduler's "Running job …") say nothing an admin acts on, so they show only at DEBUG
(``LOG_LEVEL=DEBUG`` or ``mapsync -v``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal, TextIO

import structlog

REDACTED = "[redacted]"
# Loggers whose INFO lines are routine chatter: shown at DEBUG only.
CHATTY_LOGGERS = ("alembic", "apscheduler")

# Things that are secrets whatever their value: Salesforce access tokens ("00D…!…"),
# bearer headers, and key=value pairs whose key names a secret.
_TOKEN_PATTERNS = (
    re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-!]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|password|session_id|assertion)"
        r"[\"']?\s*[=:]\s*[\"']?)[^\"'&\s,}]+"
    ),
)
_SECRET_KEYS = re.compile(
    r"(?i)(password|secret|token|authorization|session_id|assertion|private_key)"
)


class Redactor:
    """Removes known secret values and anything token-shaped from log events."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._secrets: list[str] = []
        self.add(*(secrets or []))

    def add(self, *secrets: str) -> None:
        """Register more secret values (e.g. an access token once it is obtained)."""
        for s in secrets:
            if s and len(s) >= 4 and s not in self._secrets:
                self._secrets.append(s)
        self._secrets.sort(key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for s in self._secrets:
            if s in text:
                text = text.replace(s, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + REDACTED, text)
        return text

    def scrub_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {
                k: (REDACTED if isinstance(k, str) and _SECRET_KEYS.search(k) and v
                    else self.scrub_value(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.scrub_value(v) for v in value)
        if isinstance(value, BaseException):
            return self.scrub(f"{type(value).__name__}: {value}")
        return value

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            value = event_dict[key]
            if _SECRET_KEYS.search(key) and value and key != "event":
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self.scrub_value(value)
        return event_dict


REDACTOR = Redactor()


def _scrub_rendered(logger: Any, method: str, rendered: Any) -> Any:
    # Last line of defence: the rendered line itself (covers exception tracebacks).
    return REDACTOR.scrub(rendered) if isinstance(rendered, str) else rendered


def configure_logging(
    fmt: Literal["json", "console"] = "json",
    level: str = "INFO",
    secrets: list[str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Set up structlog and stdlib logging once; safe to call again (tests, CLI)."""
    REDACTOR.add(*(secrets or []))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        REDACTOR,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
            _scrub_rendered,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_mapsync", False):
            root.removeHandler(h)
    handler._mapsync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    chatty = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)


@contextmanager
def logs_to(stream: TextIO) -> Iterator[None]:
    """Send mapsync's log lines to ``stream`` inside the block (e.g. a live progress bar's
    console, so a line printed mid-bar does not tear it), then back where they went."""
    handlers = [h for h in logging.getLogger().handlers
                if getattr(h, "_mapsync", False) and isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(stream) for h in handlers]
    try:
        yield
    finally:
        for h, old in zip(handlers, previous, strict=True):
            if old is not None:
                h.setStream(old)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


@contextmanager
def bind_run(**context: Any) -> Iterator[None]:
    """Bind run context (run_id, org, object, ...) to every log line inside the block."""
    tokens = structlog.contextvars.bind_contextvars(**context)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
