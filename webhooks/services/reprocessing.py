"""Reprocessing events chosen on the event log, several at once."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User

from backoffice.audit import audit_record
from backoffice.bulk import BulkOutcome
from backoffice.models import AuditEvent

from ..models import WebhookEvent
from .deliveries import webhook_event_process


def webhook_events_reprocess(
    *, event_pks: Sequence[int], user: User, outcome: BulkOutcome | None = None
) -> BulkOutcome:
    """Apply each chosen event again, as the event page's Reprocess button does, and
    report each: processed, or refused with the reason (no such event, already done,
    still waiting for its order, failed with its error). One audit row for the action,
    with the count and the ids."""
    outcome = outcome if outcome is not None else BulkOutcome(noun="event")
    found = dict(WebhookEvent.objects.filter(pk__in=event_pks).values_list("pk", "status"))
    processed: list[int] = []
    for pk in event_pks:
        status = found.get(pk)
        if status is None:
            outcome.refuse(f"#{pk}", "no such event")
            continue
        if status in WebhookEvent.DONE_STATUSES:
            label = WebhookEvent.Status(status).label.lower()
            outcome.refuse(f"#{pk}", f"already {label}")
            continue
        event = webhook_event_process(event_pk=pk)
        if event.status in WebhookEvent.DONE_STATUSES:
            outcome.done.append(event.event_id)
            processed.append(pk)
        else:
            reason = event.get_status_display().lower()
            if event.error:
                reason = f"{reason}: {event.error[:120]}"
            outcome.refuse(event.event_id, reason)
    if event_pks:
        audit_record(
            action=AuditEvent.Action.WEBHOOK_EVENTS_REPROCESS,
            actor=user,
            target_type=WebhookEvent._meta.label,
            summary=(
                f"Reprocessed {len(event_pks)} webhook event(s): "
                f"{len(processed)} processed, {len(event_pks) - len(processed)} not"
            ),
            details={
                "count": len(event_pks),
                "ids": list(event_pks),
                "processed": processed,
            },
        )
    return outcome
