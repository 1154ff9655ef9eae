"""Private helpers shared by the orders service modules.

Locking a PO, changing its status with a timeline entry, numbering it, totalling its
lines and the work queued after commit (submission, wallet refresh, the "known"
signal). Private to orders.services: other apps call the public services instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice.money import CENT

from ..models import PurchaseOrder, PurchaseOrderCounter, PurchaseOrderEvent
from ..signals import purchase_order_known
from .errors import PurchaseOrderNotFound

logger = logging.getLogger(__name__)

Status = PurchaseOrder.Status


def _transition(
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
    _event(po, from_status=from_status, actor=actor, actor_label=actor_label, message=message)


def _event(
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


def _lock(purchase_order_id: int, *, skip_locked: bool = False) -> PurchaseOrder | None:
    return (
        PurchaseOrder.objects.select_for_update(skip_locked=skip_locked)
        .filter(pk=purchase_order_id)
        .first()
    )


def _lock_or_raise(purchase_order_id: int) -> PurchaseOrder:
    po = _lock(purchase_order_id)
    if po is None:
        raise PurchaseOrderNotFound(f"Purchase order {purchase_order_id} does not exist")
    return po


def _next_external_id() -> str:
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


def _recompute_total(po: PurchaseOrder) -> Decimal:
    total = Decimal("0.00")
    for line in po.lines.all():
        total += line.unit_net_price * line.quantity
    return total.quantize(CENT)


def _queue_submission(po: PurchaseOrder) -> None:
    from ..tasks import purchase_order_submit

    po_id = po.pk
    # robust: a broker hiccup must not turn a committed confirmation into an error page;
    # purchase_orders_poll_pending sends POs left queued.
    transaction.on_commit(lambda: purchase_order_submit.delay(po_id), robust=True)


def _queue_wallet_sync() -> None:
    """After each submission outcome the wallet has (or has not) moved: refresh it."""
    try:
        from wallet.tasks import wallet_sync
    except ImportError:  # the wallet app may not ship its task in every deployment
        logger.warning("wallet.tasks.wallet_sync is not available; wallet not refreshed")
        return
    transaction.on_commit(lambda: wallet_sync.delay(), robust=True)


def _announce_known(po: PurchaseOrder) -> None:
    transaction.on_commit(
        lambda: purchase_order_known.send(sender=PurchaseOrder, purchase_order=po), robust=True
    )


def _is_approver_needed(total: Decimal) -> bool:
    return total > settings.PO_APPROVAL_THRESHOLD
