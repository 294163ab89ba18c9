"""Logs as JSON lines: one object per record, for machines to read and filter."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# A record's structured fields, given as `extra={FIELDS: {...}}`, go into its line as they are.
FIELDS = "fields"


class JsonLineFormatter(logging.Formatter):
    """`{"at", "level", "logger", "message", ...fields, "error"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_json_lines(level: int = logging.INFO) -> None:
    """Every log record of the process to standard error, as a JSON line."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLineFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
