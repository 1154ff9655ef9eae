"""Structured logs: the request id on every line of a request, the task id in tasks,
and secrets redacted whatever logged them."""

import io
import json
import logging

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter


@pytest.fixture
def json_log():
    """The project's console handler set-up (filters + JSON formatter) on the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_settings_wire_the_filters_and_json_formatter_into_the_console_handler(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["filters"] == ["request_id", "redact"]
    assert settings.LOGGING["root"]["handlers"] == ["console"]


@pytest.mark.django_db
def test_a_log_line_written_during_a_request_carries_its_request_id(json_log, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # healthz then logs a warning

    response = Client().get(reverse("healthz"), HTTP_X_REQUEST_ID="req-abcdef123456")

    assert response["X-Request-ID"] == "req-abcdef123456"
    lines = [line for line in json_log() if line["logger"] == "backoffice.health"]
    assert lines
    assert {line["request_id"] for line in lines} == {"req-abcdef123456"}


def test_a_log_line_written_in_a_celery_task_carries_the_task_id(json_log):
    from backoffice.celery import app

    @app.task(name="tests.log_something")
    def log_something() -> None:
        logging.getLogger("tests.task").info("inside the task")

    result = log_something.apply(task_id="task-0123456789")

    assert result.successful()
    lines = [line for line in json_log() if line["logger"] == "tests.task"]
    assert lines[0]["task_id"] == "task-0123456789"
    assert lines[0]["request_id"] == "-"


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "ABCDE-12345-FGHIJ-67890",
        "K7QX2-PL9ZM-4RTV8-WN3YB-H6JD5",
    ],
)
def test_secrets_in_log_messages_and_arguments_are_redacted(json_log, secret):
    log = logging.getLogger("tests.redaction")
    log.warning("got %s from upstream", secret)
    log.warning("payload %s", {"key": secret})

    output = json.dumps(json_log())

    assert secret not in output
    assert "[redacted]" in output


@pytest.mark.parametrize(
    "line",
    [
        "calling upstream with X-Api-Key: lk_live_9f8e7d6c5b4a",
        "settings LICENDI_API_KEY=lk_live_9f8e7d6c5b4a",
        "headers {'x-api-key': 'lk_live_9f8e7d6c5b4a'}",
        "FIELD_ENCRYPTION_KEYS secret=lk_live_9f8e7d6c5b4a",
        "KEY_HASH_SECRET=lk_live_9f8e7d6c5b4a",
    ],
)
def test_api_keys_and_named_secrets_are_redacted(json_log, line):
    logging.getLogger("tests.redaction").error(line)
    assert "lk_live_9f8e7d6c5b4a" not in json.dumps(json_log())


def test_exception_tracebacks_are_redacted_too(json_log):
    try:
        raise ValueError("bad key ABCDE-12345-FGHIJ-67890")
    except ValueError:
        logging.getLogger("tests.redaction").exception("failed")
    output = json.dumps(json_log())
    assert "ABCDE-12345-FGHIJ-67890" not in output


def test_the_configured_secret_values_are_redacted_even_bare(json_log, settings):
    settings.LICENDI_API_KEY = "lk-configured-7d1f0a9b3c"
    settings.FIELD_ENCRYPTION_KEYS = ["Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyMDA="]
    settings.KEY_HASH_SECRET = "hash-secret-5e6f7a8b"
    log = logging.getLogger("tests.redaction")
    log.info("client built with %s", settings.LICENDI_API_KEY)
    log.info("keys %s", settings.FIELD_ENCRYPTION_KEYS)
    log.info("hmac %s", settings.KEY_HASH_SECRET)

    output = json.dumps(json_log())

    assert "lk-configured-7d1f0a9b3c" not in output
    assert "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyMDA=" not in output
    assert "hash-secret-5e6f7a8b" not in output


def test_celery_keeps_the_project_logging_instead_of_its_own():
    """A receiver of setup_logging stops Celery from replacing the JSON handlers."""
    from celery.signals import setup_logging

    from backoffice.celery import use_django_logging

    assert setup_logging.receivers
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        use_django_logging()
        json_handlers = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
        assert json_handlers, "the worker's root logger writes JSON lines"
        filters = {type(f).__name__ for f in json_handlers[0].filters}
        assert filters == {"RequestIdFilter", "RedactSecretsFilter"}
    finally:
        root.handlers[:] = before
        root.setLevel(level)
