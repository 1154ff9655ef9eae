"""Helpers every orders service module shares: locking a PO, changing its status with a
timeline entry, numbering it, totalling its lines, and what is announced after commit
(the submission to queue, the "known" and "settled" signals).

Public names on purpose: the service modules of this package use them; other apps call
the services (or listen to the signals) instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice.jobs import enqueue
from backoffice.money import CENT

from ..models import PurchaseOrder, PurchaseOrderCounter, PurchaseOrderEvent
from ..signals import purchase_order_known, purchase_order_settled
from .errors import PurchaseOrderNotFound

logger = logging.getLogger(__name__)

Status = PurchaseOrder.Status


def transition(
    po: PurchaseOrder,
    to_status: str,
    *,
    actor: Any = None,
    actor_label: str = "",
    message: str = "",
    fields: Iterable[str] = (),
) -> None:
    """Change the status of a locked PO, save the given fields and add a timeline entry."""
    from_status = po.status
    po.status = to_status
    po.save(update_fields=["status", "updated_at", *fields])
    record_event(po, from_status=from_status, actor=actor, actor_label=actor_label, message=message)


def record_event(
    po: PurchaseOrder,
    *,
    from_status: str | None = None,
    actor: Any = None,
    actor_label: str = "",
    message: str = "",
) -> None:
    PurchaseOrderEvent.objects.create(
        purchase_order=po,
        from_status=po.status if from_status is None else from_status,
        to_status=po.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        message=message[:2000],
    )


def lock(purchase_order_id: int, *, skip_locked: bool = False) -> PurchaseOrder | None:
    return (
        PurchaseOrder.objects.select_for_update(skip_locked=skip_locked)
        .filter(pk=purchase_order_id)
        .first()
    )


def lock_or_raise(purchase_order_id: int) -> PurchaseOrder:
    po = lock(purchase_order_id)
    if po is None:
        raise PurchaseOrderNotFound(f"Purchase order {purchase_order_id} does not exist")
    return po


def next_external_id() -> str:
    """PO-<year>-<nnnn> from a counter row locked in the calling transaction.

    A rolled-back confirmation rolls the counter back too: no gaps. A number already
    taken (an imported order that happened to use it) is skipped.
    """
    year = timezone.localdate().year
    PurchaseOrderCounter.objects.bulk_create(
        [PurchaseOrderCounter(year=year, last_number=0)], ignore_conflicts=True
    )
    counter = PurchaseOrderCounter.objects.select_for_update().get(year=year)
    while True:
        counter.last_number += 1
        candidate = f"PO-{year}-{counter.last_number:04d}"
        if not PurchaseOrder.objects.filter(external_id=candidate).exists():
            break
    counter.save(update_fields=["last_number"])
    return candidate


def recompute_total(po: PurchaseOrder) -> Decimal:
    total = Decimal("0.00")
    for line in po.lines.all():
        total += line.unit_net_price * line.quantity
    return total.quantize(CENT)


def queue_submission(po: PurchaseOrder) -> None:
    # Sent on commit; if the broker is down, the recovery sweep sends POs left queued.
    enqueue("orders.tasks.purchase_order_submit", po_id=po.pk)


def announce_settled(po: PurchaseOrder) -> None:
    """After each submission outcome the wallet has (or has not) moved: say so on commit.

    The wallet listens (and refreshes itself); orders does not know who does.
    """
    transaction.on_commit(
        lambda: purchase_order_settled.send(sender=PurchaseOrder, purchase_order=po), robust=True
    )


def announce_known(po: PurchaseOrder) -> None:
    transaction.on_commit(
        lambda: purchase_order_known.send(sender=PurchaseOrder, purchase_order=po), robust=True
    )


def approval_needed(total: Decimal) -> bool:
    return bool(total > settings.PO_APPROVAL_THRESHOLD)
