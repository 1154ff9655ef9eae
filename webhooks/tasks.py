"""Celery tasks of the webhooks app: thin, taking ids, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="webhooks.tasks.webhook_event_process")
def webhook_event_process(event_pk: int) -> str:
    """Apply one stored event (queued on commit by the receiver and by order arrival)."""
    return services.webhook_event_process_queued(event_pk=event_pk)


@shared_task(name="webhooks.tasks.webhook_events_process_waiting")
def webhook_events_process_waiting() -> dict[str, int]:
    """Beat: retry events waiting for their order and events whose task was lost."""
    return services.webhook_events_process_waiting()
