"""Celery tasks of the webhooks app: thin, taking ids, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="webhooks.tasks.webhook_event_process")
def webhook_event_process(event_pk: int) -> str:
    """Apply one stored event (queued on commit by the receiver and by order arrival).

    A failure the service could not record itself is written on the event, then raised
    for the task class to retry; the beat pass picks up events left "received".
    """
    try:
        return services.webhook_event_process_queued(event_pk=event_pk)
    except Exception as exc:
        services.webhook_event_failure_record(event_pk=event_pk, error=exc)
        raise


@shared_task(name="webhooks.tasks.webhook_events_process_waiting")
def webhook_events_process_waiting() -> dict[str, int]:
    """Beat: retry events waiting for their order and events whose task was lost."""
    return services.webhook_events_process_waiting()
