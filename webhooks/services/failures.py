"""Failures of the background work on an event, written on the event itself.

An event whose processing task crashed before it could record anything (the database
locked or unreachable while taking the event's row lock) would otherwise show
"Received · Attempts 0 · Error —" while the worker logs the cause.
"""

from __future__ import annotations

import logging

from ..models import WebhookEvent

logger = logging.getLogger(__name__)


def webhook_event_failure_record(*, event_pk: int, error: BaseException) -> None:
    """Write why the processing task failed on an event not yet done.

    Only the error's type and first line are kept: the message of an error raised
    outside the event's own handling was not scrubbed of the keys it may quote.
    Never raises: the caller's retry must go on even when the database is what failed.
    """
    first_line = (str(error).splitlines() or [""])[0][:300]
    text = (
        f"The processing task failed: {type(error).__name__}: {first_line}. "
        "It is tried again automatically."
    )
    try:
        WebhookEvent.objects.filter(pk=event_pk).exclude(
            status__in=WebhookEvent.DONE_STATUSES
        ).update(error=text)
    except Exception:
        logger.exception("Could not record the failure on webhook event %s", event_pk)
