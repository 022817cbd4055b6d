"""Logging setup: structlog to stderr, human in a terminal, JSON lines in CI.

Every module logs ``event`` + key/values: ``log.info("plan.computed", updates=2)``.
A redaction processor removes any registered secret from every log line, as defence in
depth behind the rule that keys are only ever held in ``model.Secret``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

_SECRETS: set[str] = set()
REDACTED = "**********"
LEVELS = ("debug", "info", "warning", "error")


def register_secret(value: str) -> None:
    """Never let ``value`` appear in a log line (short values are ignored: too noisy)."""
    if len(value) >= 6:
        _SECRETS.add(value)


def redact_text(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def _redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    if not _SECRETS:
        return event_dict
    for key, value in list(event_dict.items()):
        if isinstance(value, BaseException):
            value = str(value)
        event_dict[key] = _redact(value)
    return event_dict


def want_json(log_format: str) -> bool:
    """``auto`` means JSON in CI (``CI=true``) and human text elsewhere."""
    if log_format == "json":
        return True
    if log_format == "human":
        return False
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def configure(
    level: str = "warning", log_format: str = "auto", stream: TextIO | None = None
) -> None:
    """Configure structlog (and stdlib logging, for uvicorn) once per process."""
    stream = stream or sys.stderr
    numeric = getattr(logging, level.upper(), logging.WARNING)
    as_json = want_json(log_format)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_processor,
    ]
    if as_json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        colors = stream.isatty() and "NO_COLOR" not in os.environ
        processors.append(structlog.dev.ConsoleRenderer(colors=colors))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # uvicorn and other stdlib loggers: same stream, same level, secrets redacted.
    handler = logging.StreamHandler(stream)
    handler.addFilter(_StdlibRedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)


class _StdlibRedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg = redact_text(record.getMessage())
            record.args = None
        return True


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
