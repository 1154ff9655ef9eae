"""Structured (JSON) log lines carrying the request id, with secrets redacted."""

import json
import logging
import re
from datetime import UTC, datetime

from .middleware import current_request_id

# Shapes of secrets that must never be written out, whatever logged them.
_SECRET_PATTERNS = [
    re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),  # webhook secrets
    re.compile(r"\b[A-Z0-9]{5}(?:-[A-Z0-9]{5}){3,5}\b"),  # licence keys
    re.compile(
        r"(?i)(x-api-key|api[_-]?key|authorization|secret|password|encryption[_-]?keys?)"
        r"(['\"]?\s*[:=]\s*)\S+"
    ),
]

# Settings whose values are secrets: redacted wherever their exact value shows up, even
# bare (an API key has no recognisable shape of its own).
SECRET_SETTINGS = (
    "LICENDI_API_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "KEY_HASH_SECRET",
    "SECRET_KEY",
    "EMAIL_HOST_PASSWORD",
)


def _configured_secrets() -> list[str]:
    from django.conf import settings

    if not settings.configured:
        return []
    values: list[str] = []
    for name in SECRET_SETTINGS:
        value = getattr(settings, name, "")
        values.extend(value if isinstance(value, list | tuple) else [value])
    # Short values would redact ordinary words; real secrets are long.
    return sorted({v for v in values if isinstance(v, str) and len(v) >= 8}, key=len, reverse=True)


def redact(text: str) -> str:
    for value in _configured_secrets():
        text = text.replace(value, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


def current_task_id() -> str | None:
    """The id of the Celery task running in this thread, if any."""
    # The same lookup Celery's own TaskFormatter makes; imported late so that code
    # which never runs tasks does not need Celery's state.
    from celery._state import get_current_task

    task = get_current_task()
    return getattr(task.request, "id", None) if task is not None else None


class RequestIdFilter(logging.Filter):
    """Tags each record with the request id (web) or the task id (worker)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        record.task_id = current_task_id() or "-"
        return True


class RedactSecretsFilter(logging.Filter):
    """Last line of defence: code should not log secrets in the first place."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        task_id = getattr(record, "task_id", "-")
        if task_id != "-":
            payload["task_id"] = task_id
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)
