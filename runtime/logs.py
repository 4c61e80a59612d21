"""structlog set-up: JSON lines in production, readable console output in development.

Request-scoped values (request id, RPC, caller, outcome) are bound with
``structlog.contextvars`` by the server interceptor, so every line logged while a
request runs carries them. Nothing personal is ever bound: callers are department
codes and roles, holders never appear.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from runtime.config import Settings


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
