"""Celery tasks of the orders app: thin, take ids, call one service, safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

import licendi
from backoffice.upstream import licendi_client

from . import services
from .models import PurchaseOrder

logger = logging.getLogger(__name__)

# Backoff for an unknown outcome: 30 s, 1, 2, 4, ... capped at 30 min, well below the
# broker's visibility timeout (one hour); beyond the retries, polling takes over.
SUBMIT_RETRY_BASE_SECONDS = 30
SUBMIT_RETRY_MAX_SECONDS = 30 * 60
SUBMIT_MAX_RETRIES = 8
# A PO left "submitting" this long had its worker die mid-call, and one left "queued"
# this long lost its task (broker down at confirmation): polling sends them.
STALE_SUBMITTING = timedelta(minutes=10)
STALE_QUEUED = timedelta(minutes=5)
# Another process held the PO row (a worker sending it, or a short service call).
BUSY_RETRY_SECONDS = 15


@shared_task(bind=True, max_retries=SUBMIT_MAX_RETRIES, acks_late=True)
def purchase_order_submit(self, po_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        result = services.purchase_order_submit(purchase_order_id=po_id)
    except services.SubmissionOutcomeUnknown as exc:
        countdown = min(
            SUBMIT_RETRY_BASE_SECONDS * 2**self.request.retries, SUBMIT_RETRY_MAX_SECONDS
        )
        logger.warning("PO %s outcome unknown, retry in %ss: %s", po_id, countdown, exc)
        if self.request.retries >= self.max_retries:
            # Left "unknown": purchase_orders_poll_pending keeps resolving it.
            return "unknown"
        raise self.retry(exc=exc, countdown=countdown) from exc
    if result.status == "busy" and self.request.retries < self.max_retries:
        # If a worker is sending it, the next run finds it settled and does nothing.
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return result.status


@shared_task
def purchase_orders_poll_pending() -> dict[str, int]:
    """Fetch keys of orders still awaiting them (a missed webhook never loses a key) and
    resolve orders whose submission outcome is unknown."""
    counts = {"polled": 0, "keys": 0, "resolved": 0, "errors": 0}
    awaiting = PurchaseOrder.objects.filter(
        status__in=PurchaseOrder.AWAITING_KEYS_STATUSES, upstream_id__isnull=False
    ).values_list("pk", flat=True)
    for po_id in list(awaiting):
        counts["polled"] += 1
        try:
            counts["keys"] += services.purchase_order_poll_keys(purchase_order_id=po_id)
        except licendi.LicendiError as exc:
            counts["errors"] += 1
            logger.warning("Polling keys of PO %s failed: %s", po_id, exc)
    now = timezone.now()
    unresolved = PurchaseOrder.objects.filter(
        Q(status=PurchaseOrder.Status.UNKNOWN)
        | Q(status=PurchaseOrder.Status.SUBMITTING, updated_at__lt=now - STALE_SUBMITTING)
        | Q(status=PurchaseOrder.Status.QUEUED, updated_at__lt=now - STALE_QUEUED)
    ).order_by("pk")
    for po_id in list(unresolved.values_list("pk", flat=True)):
        try:
            result = services.purchase_order_submit(purchase_order_id=po_id, actor_label="beat")
        except (services.SubmissionOutcomeUnknown, licendi.LicendiError) as exc:
            counts["errors"] += 1
            logger.warning("PO %s still unresolved: %s", po_id, exc)
            continue
        if result.status not in ("busy", PurchaseOrder.Status.UNKNOWN):
            counts["resolved"] += 1
    return counts


@shared_task
def purchase_orders_import(limit: int = 200) -> dict[str, int]:
    """Mirror orders placed outside the back-office (read-only POs)."""
    counts = {"seen": 0, "imported": 0}
    with licendi_client() as client:
        orders = client.list_orders(limit=limit)
        known = set(
            PurchaseOrder.objects.filter(upstream_id__in=[o.id for o in orders]).values_list(
                "upstream_id", flat=True
            )
        )
        for order in orders:
            counts["seen"] += 1
            if order.id in known:
                continue
            if services.purchase_order_import(order=order, client=client) is not None:
                counts["imported"] += 1
    return counts
