"""The periodic passes over many POs (run by beat through orders.tasks).

Each PO is handled on its own: a failure is written on that PO's timeline (once, not
on every pass) and logged, and the pass goes on with the next PO, so one broken order
can never hold back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backoffice.jobs import enqueue

from ..models import PurchaseOrder, PurchaseOrderEvent
from .errors import SubmissionOutcomeUnknown
from .importing import purchase_order_poll_keys
from .keys import details_missing
from .submission import (
    purchase_order_details_refresh,
    purchase_order_submit,
    purchase_order_upstream_find,
)
from .timeline import Status, record_event

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("polled", "keys", "resolved", "errors"), 0)
    )

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def purchase_order_failure_record(
    *, purchase_order_id: int, what: str, error: BaseException, actor_label: str
) -> None:
    """Write a background failure on the PO's timeline (unless its last entry already
    says so), so its page tells why it has not moved instead of staying silent.

    Never raises: the record is a courtesy to staff, and the caller's own error handling
    (a retry, the next PO of a pass) must go on even when the database is what failed.
    """
    message = f"{what} failed: {type(error).__name__}: {error}"[:2000]
    logger.warning("PO %s: %s", purchase_order_id, message)
    try:
        with transaction.atomic():
            po = PurchaseOrder.objects.filter(pk=purchase_order_id).first()
            if po is None:
                return
            last = (
                PurchaseOrderEvent.objects.filter(purchase_order=po)
                .order_by("-at", "-pk")
                .values_list("message", flat=True)
                .first()
            )
            if last != message:
                record_event(po, actor_label=actor_label, message=message)
    except Exception:
        logger.exception("Could not record the failure on PO %s", purchase_order_id)


def _each(
    report: SweepReport, ids: list[int], what: str, step: Callable[[int], dict[str, int]]
) -> None:
    for po_id in ids:
        try:
            outcome = step(po_id)
        except SubmissionOutcomeUnknown as exc:
            report.add("unresolved")
            logger.info("PO %s still unresolved: %s", po_id, exc)
        except Exception as exc:  # isolate each PO: record it and go on
            report.add("errors")
            purchase_order_failure_record(
                purchase_order_id=po_id, what=what, error=exc, actor_label="beat"
            )
        else:
            for name, n in outcome.items():
                report.add(name, n)


def _poll(po_id: int) -> dict[str, int]:
    return {"polled": 1, "keys": purchase_order_poll_keys(purchase_order_id=po_id)}


def _refresh(po_id: int) -> dict[str, int]:
    done = purchase_order_details_refresh(purchase_order_id=po_id, actor_label="polling")
    return {"details_read" if done else "details_incomplete": 1}


def _find(po_id: int) -> dict[str, int]:
    found = purchase_order_upstream_find(purchase_order_id=po_id)
    return {"found_upstream" if found else "not_found_upstream": 1}


def _resolve(po_id: int) -> dict[str, int]:
    result = purchase_order_submit(purchase_order_id=po_id, actor_label="beat")
    if result.status == "busy":
        return {"busy": 1}
    if result.status == Status.UNKNOWN:
        return {"unresolved": 1}
    return {"resolved": 1}


def purchase_orders_poll_pending() -> SweepReport:
    """Fetch keys of orders still awaiting them (a missed webhook never loses a key),
    read the invoice and charged prices of POs that never got their answer, and
    resolve orders whose submission outcome is unknown."""
    report = SweepReport()
    awaiting = PurchaseOrder.objects.filter(
        status__in=PurchaseOrder.AWAITING_KEYS_STATUSES, upstream_id__isnull=False
    ).order_by("pk")
    _each(report, list(awaiting.values_list("pk", flat=True)), "Polling keys", _poll)
    incomplete = [
        po.pk
        for po in PurchaseOrder.objects.filter(
            status__in=PurchaseOrder.UPSTREAM_STATUSES, upstream_id__isnull=False
        )
        .filter(
            Q(invoice_number="")
            | Q(upstream_total__isnull=True)
            | Q(lines__upstream_unit_price__isnull=True)
        )
        .distinct()
        .order_by("pk")
        if details_missing(po)
    ]
    _each(report, incomplete, "Reading the order from Licendi", _refresh)
    # Accepted by Licendi with an answer naming no id: found by externalId.
    unnamed = PurchaseOrder.objects.filter(
        status__in=PurchaseOrder.AWAITING_KEYS_STATUSES,
        upstream_id__isnull=True,
        source=PurchaseOrder.Source.BACKOFFICE,
    ).order_by("pk")
    _each(report, list(unnamed.values_list("pk", flat=True)), "Looking the order up", _find)
    unresolved = PurchaseOrder.objects.filter(status=Status.UNKNOWN).order_by("pk")
    _each(report, list(unresolved.values_list("pk", flat=True)), "Resolving", _resolve)
    purchase_orders_recover(report=report)
    return report


def purchase_orders_recover(*, report: SweepReport | None = None) -> SweepReport:
    """Pick up submissions a dead worker or a lost task left behind.

    A PO queued or submitting for longer than ORDER_RECOVERY_AFTER_SECONDS is sent (or
    resolved) again. A submission still alive holds the PO's row lock, so it is skipped
    ("busy"); a dead one's lock went with its database connection. Resending is safe:
    it looks the order up by externalId and sends the same Idempotency-Key.
    """
    report = report or SweepReport()
    bound = timezone.now() - timedelta(seconds=settings.ORDER_RECOVERY_AFTER_SECONDS)
    stale = PurchaseOrder.objects.filter(
        status__in=[Status.QUEUED, Status.SUBMITTING], updated_at__lt=bound
    ).order_by("pk")
    _each(report, list(stale.values_list("pk", flat=True)), "Recovering the submission", _resolve)
    return report


def purchase_orders_sync_request() -> None:
    """Staff asked for the order import and the polling pass now (sent on commit)."""
    enqueue("orders.tasks.purchase_orders_import")
    enqueue("orders.tasks.purchase_orders_poll_pending")
