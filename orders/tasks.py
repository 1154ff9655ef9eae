"""Celery tasks of the orders app: thin, take ids, call one service, safe to run twice.

Transient database errors are retried by the project's task class (backoffice.celery).
"""

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from . import services
from .models import PurchaseOrder

logger = logging.getLogger(__name__)

# Backoff for an unknown outcome: 30 s, then capped below the broker's visibility
# timeout (a longer countdown would have Redis hand the task out twice); beyond the
# retries, purchase_orders_poll_pending keeps resolving it.
SUBMIT_RETRY_BASE_SECONDS = 30
SUBMIT_MAX_RETRIES = 8
# Another process held the PO row (a worker sending it, or a short service call).
BUSY_RETRY_SECONDS = 15


def _countdown(seconds: float) -> float:
    return float(min(seconds, settings.CELERY_MAX_COUNTDOWN_SECONDS))


@shared_task(bind=True, max_retries=SUBMIT_MAX_RETRIES, acks_late=True)
def purchase_order_submit(self: Task[Any, str], po_id: int) -> str:
    try:
        result = services.purchase_order_submit(purchase_order_id=po_id)
    except services.SubmissionOutcomeUnknown as exc:
        return _submit_retry(self, po_id, exc)
    except Exception as exc:
        # Anything else (a refusal the price check did not expect, the database
        # unreachable) would leave the page saying "Queued": put it on the timeline.
        # The task class retries database errors; the recovery sweep resends the rest.
        services.purchase_order_failure_record(
            purchase_order_id=po_id, what="Sending to Licendi", error=exc, actor_label="worker"
        )
        raise
    if result.status == "busy" and self.request.retries < SUBMIT_MAX_RETRIES:
        # If a worker is sending it, the next run finds it settled and does nothing.
        raise self.retry(countdown=_countdown(BUSY_RETRY_SECONDS))
    return result.status


def _submit_retry(task: Task[Any, str], po_id: int, exc: Exception) -> str:
    countdown = _countdown(SUBMIT_RETRY_BASE_SECONDS * 2**task.request.retries)
    logger.warning("PO %s outcome unknown, retry in %ss: %s", po_id, countdown, exc)
    if task.request.retries >= SUBMIT_MAX_RETRIES:
        # Left "unknown": purchase_orders_poll_pending keeps resolving it.
        return PurchaseOrder.Status.UNKNOWN
    raise task.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True)
def purchase_order_details_refresh(purchase_order_id: int) -> bool:
    """Re-read the order upstream for a PO that got its keys but not its answer."""
    try:
        return services.purchase_order_details_refresh(purchase_order_id=purchase_order_id)
    except Exception as exc:
        services.purchase_order_failure_record(
            purchase_order_id=purchase_order_id,
            what="Reading the order's details from Licendi",
            error=exc,
            actor_label="worker",
        )
        raise


@shared_task
def purchase_orders_poll_pending() -> dict[str, int]:
    """Keys still to come, details never read, outcomes unknown: each PO on its own."""
    return services.purchase_orders_poll_pending().counts


@shared_task
def purchase_orders_recover() -> dict[str, int]:
    """Every minute: submissions a dead worker or a lost task left behind."""
    return services.purchase_orders_recover().counts


@shared_task
def purchase_orders_import(limit: int = services.IMPORT_LIMIT) -> dict[str, Any]:
    """Mirror orders placed outside the back-office (read-only POs)."""
    return services.purchase_orders_import(limit=limit).as_counts()
