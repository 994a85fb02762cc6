"""Logging set-up that can never leak the bot token: readable text, or one JSON object a line."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_TRACEBACKS = logging.Formatter()  # formats an exception as every formatter here would


class RedactFilter(logging.Filter):
    """Replaces every occurrence of the secrets in what a record prints: its final message,
    its exception's traceback (an exception's text may quote a token) and its stack. Formatters
    use the redacted texts the record then carries, so text and JSON lines are both clean."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors: time (ISO 8601, UTC), level, logger, message,
    then `exception` and `stack` when the record has them, and the fixed `context` fields
    (which shards this worker runs)."""

    def __init__(self, context: Mapping[str, object] | None = None) -> None:
        super().__init__()
        self._context = dict(context or {})

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self._context,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(
    level: str,
    secrets: list[str] | None = None,
    *,
    log_format: str = "text",
    context: Mapping[str, object] | None = None,
) -> None:
    """Log to stderr as `log_format` says (text | json); `context` goes into every JSON line."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(context))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, "%Y-%m-%d %H:%M:%S"))
    handler.addFilter(RedactFilter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py's gateway chatter is useful only when debugging the bot itself.
    quiet = max(logging.getLevelName(level), logging.INFO)
    logging.getLogger("discord").setLevel(quiet)
    # Migrations log every step at INFO; the bot says itself when it creates a schema.
    logging.getLogger("alembic").setLevel(max(logging.getLevelName(level), logging.WARNING))
