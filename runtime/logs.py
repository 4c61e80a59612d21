"""structlog set-up: JSON lines in production, readable console output in development.

Request-scoped values (request id, RPC, caller, outcome) are bound with
``structlog.contextvars`` by the server interceptor, so every line logged while a
request runs carries them. Nothing personal is ever bound: callers are department
codes and roles, holders never appear.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from runtime.config import Settings

# A resident ID (GB 11643): area code, birth date 18xx-20xx, sequence, check character.
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[0-9Xx](?![0-9A-Za-z])"
)
REDACTED = "[resident-id]"


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _RESIDENT_ID.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_resident_ids(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace anything shaped like a resident ID, wherever it hides (exception text too).

    Code never logs holders on purpose; this is the net under an unexpected exception
    whose message quotes its input.
    """
    return {key: _redact(value) for key, value in event.items()}


def _is_json(settings: Settings) -> bool:
    if settings.log_format == "auto":
        return not (settings.mode == "development" and sys.stderr.isatty())
    return settings.log_format == "json"


def _renderer(settings: Settings) -> Any:
    if _is_json(settings):
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)


def configure(settings: Settings) -> None:
    """Configure structlog (and the stdlib loggers of libraries) once, at start-up."""
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Locals may hold request data; tracebacks carry code locations only.
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
            if _is_json(settings)
            else structlog.processors.format_exc_info,
            redact_resident_ids,
            _renderer(settings),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr, force=True)


def get_logger(name: str) -> Any:
    """A structlog logger that names its component."""
    return structlog.get_logger(component=name)
