"""A processing task that crashes before the event could record anything writes why on
the event, instead of leaving "Received · Attempts 0 · Error —"."""

import pytest

from webhooks import services, tasks
from webhooks.models import WebhookEvent

from .factories import WebhookEventFactory

pytestmark = pytest.mark.django_db


def test_a_crashed_processing_task_writes_its_cause_on_the_event(monkeypatch):
    event = WebhookEventFactory()

    def crash(*, event_pk: int) -> str:
        raise RuntimeError("could not take the event's row lock")

    # The crash stands for what the service cannot record itself (its own transaction
    # is what failed); the task must still leave the cause on the event.
    monkeypatch.setattr(services, "webhook_event_process_queued", crash)
    with pytest.raises(RuntimeError):
        tasks.webhook_event_process.apply(args=[event.pk])

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.RECEIVED  # the beat pass retries it
    assert event.error == (
        "The processing task failed: RuntimeError: could not take the event's row lock. "
        "It is tried again automatically."
    )


def test_only_the_first_line_of_a_failure_is_kept():
    event = WebhookEventFactory()
    error = ValueError("bad row\nDETAIL: Key (key)=(ABCDE-12345-SECRET) already exists")

    services.webhook_event_failure_record(event_pk=event.pk, error=error)

    event.refresh_from_db()
    assert "bad row" in event.error and "SECRET" not in event.error


def test_a_done_event_keeps_its_record():
    event = WebhookEventFactory(status=WebhookEvent.Status.PROCESSED)

    services.webhook_event_failure_record(event_pk=event.pk, error=RuntimeError("late"))

    event.refresh_from_db()
    assert event.error == ""


def test_recording_a_failure_for_a_removed_event_does_not_raise():
    services.webhook_event_failure_record(event_pk=987654321, error=RuntimeError("gone"))
