"""Failures of the background work on events, written on the events themselves.

An event whose processing task crashed before it could record anything (the database
locked or unreachable while taking the event's row lock), or whose batch was being
applied when the drain task crashed, would otherwise show
"Received · Attempts 0 · Error —" while the worker logs the cause.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..models import WebhookEvent

logger = logging.getLogger(__name__)


def _failure_text(task: str, error: BaseException) -> str:
    """Only the error's type and first line: the message of an error raised outside the
    event's own handling was not scrubbed of the keys it may quote."""
    first_line = (str(error).splitlines() or [""])[0][:300]
    return (
        f"The {task} failed: {type(error).__name__}: {first_line}. It is tried again automatically."
    )


def webhook_event_failure_record(*, event_pk: int, error: BaseException) -> None:
    """Write why the processing task failed on an event not yet done.

    Never raises: the caller's retry must go on even when the database is what failed.
    """
    try:
        WebhookEvent.objects.filter(pk=event_pk).exclude(
            status__in=WebhookEvent.DONE_STATUSES
        ).update(error=_failure_text("processing task", error))
    except Exception:
        logger.exception("Could not record the failure on webhook event %s", event_pk)


def webhook_events_failure_record(
    *, event_pks: Sequence[int], error: BaseException, limit: int
) -> int:
    """Write why the drain task failed on the events it had taken; returns how many.

    A drain that failed before taking any (its first query failed) concerns the events
    it was about to take: the oldest `limit` received ones. Never raises.
    """
    try:
        events = WebhookEvent.objects.exclude(status__in=WebhookEvent.DONE_STATUSES)
        if event_pks:
            events = events.filter(pk__in=event_pks)
        else:
            events = events.filter(
                pk__in=list(
                    WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:limit]
                )
            )
        return events.update(error=_failure_text("drain task", error))
    except Exception:
        logger.exception(
            "Could not record the drain failure on %d webhook event(s)", len(event_pks)
        )
        return 0
