"""Celery tasks of the webhooks app: thin, taking ids, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="webhooks.tasks.webhook_event_process")
def webhook_event_process(event_pk: int) -> str:
    """Apply one stored event (queued when its order arrives).

    A failure the service could not record itself is written on the event, then raised
    for the task class to retry; the beat passes pick up events left unapplied.
    """
    try:
        return services.webhook_event_process_queued(event_pk=event_pk)
    except Exception as exc:
        services.webhook_event_failure_record(event_pk=event_pk, error=exc)
        raise


@shared_task(name="webhooks.tasks.webhook_events_drain")
def webhook_events_drain() -> dict[str, int]:
    """Apply every received event in batches (queued after the receiver commits, and by
    beat every WEBHOOK_DRAIN_SWEEP_SECONDS in case a queued drain was lost)."""
    return services.webhook_events_drain()


@shared_task(name="webhooks.tasks.webhook_events_process_waiting")
def webhook_events_process_waiting() -> dict[str, int]:
    """Beat: retry events waiting for their order and events whose task was lost."""
    return services.webhook_events_process_waiting()
