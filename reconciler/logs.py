"""Logging setup: structlog to stderr, human in a terminal, JSON lines in CI.

Every module logs ``event`` + key/values: ``log.info("plan.computed", updates=2)``.
A redaction processor removes any registered secret from every log line, as defence in
depth behind the rule that keys are only ever held in ``model.Secret``, and escapes control
characters (ESC, bidi overrides, lone CR...) in every value, since values may come from a server.

structlog is imported only when a line is actually written: ``get_logger`` returns a small
proxy that drops lines below the configured level first. At the default level (warning) a
run logs nothing, and start-up saves the ~30 ms structlog's import costs.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, TextIO

from reconciler.textsafe import safe

if TYPE_CHECKING:
    import logging

#: The stdlib's level numbers, so that filtering a line needs no ``import logging`` (~3 ms
#: with traceback and textwrap): only a command that loads a library logging through the
#: stdlib (httpx, uvicorn, asyncio) imports it, in ``configure``.
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_LEVEL_NUMBERS = {
    "NOTSET": 0,
    "DEBUG": DEBUG,
    "INFO": INFO,
    "WARN": WARNING,
    "WARNING": WARNING,
    "ERROR": ERROR,
    "FATAL": 50,
    "CRITICAL": 50,
}

_SECRETS: set[str] = set()
_SECRET_RE: re.Pattern[str] | None = None
#: Level below which the proxy drops lines without touching structlog; None = not
#: configured (then everything goes to structlog, whose defaults tests rely on).
_threshold: int | None = None
REDACTED = "**********"
LEVELS = ("debug", "info", "warning", "error")

_SEP = r"(?:_|-|%5[Ff]|%2[Dd])"
#: THE pattern of an API key (``sk_test_…`` / ``sk_live_…``) for the whole project: masking
#: here, the spec's "no key in the spec" rule, the sandbox's key check. Also matches the key
#: written with ``-`` for ``_`` or URL-encoded (``sk%5Flive%5F…``), in any letter case;
#: group ``prefix`` is the part that may be shown, the rest is the secret.
API_KEY_PATTERN = re.compile(
    rf"(?P<prefix>(?i:sk{_SEP}(?:test|live){_SEP}))(?P<secret>[A-Za-z0-9][^\s/?#&'\"()<>\[\]{{}},;]*)"
)


#: A key's secret part is masked on its own only from this length: a short one (the public
#: ``sk_test_sandbox``) would mask ordinary words. Real keys are far longer; shorter ones are
#: still masked wherever their ``sk_live_`` prefix is, by ``mask_keys``.
MIN_SECRET_ALONE = 12


def register_secret(value: str) -> None:
    """Never let ``value`` appear in a log line or an error message.

    For a key, the secret part (after ``sk_live_``) is what is masked, so it is caught alone
    too, and in the forms a server may echo it: URL-encoded (any case of the hex digits,
    any of its characters encoded), with ``-`` for ``_``. Any other value (a malformed key)
    is masked whole, in the same spellings, from 6 characters."""
    global _SECRET_RE
    match = API_KEY_PATTERN.fullmatch(value)
    secret = match.group("secret") if match else value
    if len(secret) < (MIN_SECRET_ALONE if match else 6) or secret in _SECRETS:
        return
    _SECRETS.add(secret)
    # Compiled on the next redaction, not here: a fleet registers one key per portal, and
    # recompiling the union each time was quadratic (1,000 portals: ~200 ms of CPU and
    # ~0.5 MiB of memory per portal).
    _SECRET_RE = None


def _secret_re() -> re.Pattern[str] | None:
    global _SECRET_RE
    if _SECRET_RE is None and _SECRETS:
        alternatives = sorted((_spellings(s) for s in _SECRETS), key=len, reverse=True)
        _SECRET_RE = re.compile("|".join(alternatives))
    return _SECRET_RE


def _spellings(secret: str) -> str:
    """A regex matching ``secret`` verbatim, with any character %-encoded, ``-``/``_`` swapped."""
    parts = []
    for char in secret:
        codes = {char} | ({"-", "_"} if char in "-_" else set())
        options = []
        for option in sorted(codes):
            hexa = f"{ord(option):02X}" if ord(option) < 0x80 else None
            encoded = f"|%(?i:{hexa})" if hexa else ""
            options.append(f"{re.escape(option)}{encoded}")
        parts.append(f"(?:{'|'.join(options)})")
    return "".join(parts)


def mask_keys(text: str) -> str:
    """``text`` with every key-shaped run replaced: ``sk_live_**********``."""
    return API_KEY_PATTERN.sub(lambda m: m.group("prefix") + REDACTED, text)


def redact_text(text: str) -> str:
    """Registered secrets (in every spelling) and anything shaped like a key, masked; used
    for every log line and every error line."""
    secrets = _secret_re()
    if secrets is not None:
        text = secrets.sub(REDACTED, text)
    return mask_keys(text)


def _redact(value: Any) -> Any:
    """Secrets masked and controls escaped (``textsafe.safe``: a value a server sent must
    not drive the terminal a human log is read on), in every string of an event."""
    if isinstance(value, str):
        return redact_text(safe(value))
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def _redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
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


def level_number(level: str) -> int:
    """The stdlib number of a level name (any case); WARNING for a name it does not know."""
    return _LEVEL_NUMBERS.get(level.upper(), WARNING)


def configure(
    level: str = "warning",
    log_format: str = "auto",
    stream: TextIO | None = None,
) -> None:
    """Configure structlog (and, on demand, stdlib logging) once per process.

    Only the level is applied now; structlog itself is configured on the first line that
    passes it (see ``LazyLogger``), and stdlib logging when a library that logs through it
    is about to be used (``route_stdlib``): a command that loads none of them (validate,
    plan of the embedded sandbox) never imports ``logging``."""
    global _threshold, _pending, _stdlib_routed
    _threshold = level_number(level)
    _pending = (level, log_format, stream)
    _stdlib_routed = False


def route_stdlib() -> None:
    """Before using a library that logs through stdlib logging (httpx and httpcore, asyncio,
    uvicorn): send its lines to our stream, at our level and format, secrets redacted.
    Idempotent; a no-op until ``configure`` was called."""
    global _stdlib_routed
    if _pending is None or _stdlib_routed or _threshold is None:
        return
    _stdlib_routed = True
    _configure_stdlib(_threshold, _pending[1], _pending[2])


def _configure_stdlib(threshold: int, log_format: str, stream: TextIO | None) -> None:
    """uvicorn and other stdlib loggers: same stream, same level, same format (one JSON
    object per line in CI), secrets redacted."""
    import logging

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_stdlib_redact_filter())
    if want_json(log_format):
        handler.setFormatter(_json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(threshold)
    # httpx logs every request at INFO in its own words; our client logs each one as
    # ``api.request`` (debug, with attempt and status), so theirs would only repeat it.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(threshold, WARNING))


_stdlib_routed = False
_pending: tuple[str, str, TextIO | None] | None = None


def reset() -> None:
    """Forget ``configure`` (tests): every line goes to structlog's current setup again."""
    global _threshold, _pending, _stdlib_routed
    _threshold = None
    _pending = None
    _stdlib_routed = False


def _apply(level: str, log_format: str, stream: TextIO | None) -> None:
    import structlog

    stream = stream or sys.stderr
    numeric = level_number(level)
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


def _json_formatter() -> logging.Formatter:
    """A formatter of stdlib records in the same JSON-lines shape structlog writes. (Its
    class is made here, where ``logging`` is imported, not at module level.)"""
    import json
    import logging
    from datetime import UTC, datetime

    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            event: dict[str, Any] = {
                "event": record.getMessage(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            }
            if record.exc_info:
                event["exception"] = self.formatException(record.exc_info)
            return json.dumps(event)

    return JsonFormatter()


def _stdlib_redact_filter() -> logging.Filter:
    """A filter masking secrets and escaping controls in every stdlib record."""
    import logging

    class StdlibRedactFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = redact_text(safe(record.getMessage()))
            record.args = None
            return True

    return StdlibRedactFilter()


class LazyLogger:
    """What ``get_logger`` returns: structlog's ``debug``/``info``/``warning``/``error``,
    importing and configuring structlog only for a line at or above the level."""

    __slots__ = ("_name",)

    def __init__(self, name: str | None) -> None:
        self._name = name

    def _emit(self, level: int, method: str, event: str, /, **kw: Any) -> None:
        global _pending
        if _threshold is not None and level < _threshold:
            return
        if _pending is not None:
            pending, _pending = _pending, None
            _apply(*pending)
        import structlog

        getattr(structlog.get_logger(self._name), method)(event, **kw)

    def debug(self, event: str, /, **kw: Any) -> None:
        self._emit(DEBUG, "debug", event, **kw)

    def info(self, event: str, /, **kw: Any) -> None:
        self._emit(INFO, "info", event, **kw)

    def warning(self, event: str, /, **kw: Any) -> None:
        self._emit(WARNING, "warning", event, **kw)

    def error(self, event: str, /, **kw: Any) -> None:
        self._emit(ERROR, "error", event, **kw)


def get_logger(name: str | None = None) -> LazyLogger:
    return LazyLogger(name)
