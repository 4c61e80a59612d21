"""Logs: JSON in production, and never a resident ID, even inside an exception."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from runtime.config import load
from runtime.logs import REDACTED, configure, redact_resident_ids

RESIDENT_ID = "35010219900101123X"


@pytest.fixture
def production_logs() -> Iterator[None]:
    """Configure logging as production does; restore the defaults after."""
    configure(load({"CERTFREE_LOG_FORMAT": "json", "CERTFREE_MODE": "production"}))
    yield
    structlog.reset_defaults()


class TestRedaction:
    """A resident ID never reaches a log line."""

    def test_processor_redacts_nested_values(self) -> None:
        """Strings inside dicts and lists are scanned; other identifiers are kept."""
        event = {
            "event": f"no license for {RESIDENT_ID}",
            "ids": [RESIDENT_ID.lower()],
            "department": "11350100MB01234565",
            "count": 3,
        }
        redacted = redact_resident_ids(None, "info", event)
        assert RESIDENT_ID not in json.dumps(redacted)
        assert RESIDENT_ID.lower() not in json.dumps(redacted)
        assert redacted["department"] == "11350100MB01234565"
        assert redacted["count"] == 3

    def test_exception_text_is_redacted_in_json_output(self, production_logs: None) -> None:
        """An exception quoting a resident ID is logged as JSON without it."""
        output = io.StringIO()
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=output))
        log = structlog.get_logger()
        try:
            raise KeyError(RESIDENT_ID)
        except KeyError:
            log.exception("lookup failed")
        line = json.loads(output.getvalue().strip().splitlines()[-1])
        assert line["event"] == "lookup failed"
        assert RESIDENT_ID not in json.dumps(line)
        assert REDACTED in json.dumps(line)
        assert "locals" not in json.dumps(line["exception"])
