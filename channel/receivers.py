"""Where the channel hears of changes made by apps that do not know it.

Receivers only queue work (through services, which use backoffice.jobs.enqueue): the
work runs after the sender's transaction commits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models.signals import post_save

from catalog.models import Combination
from catalog.signals import combinations_changed
from orders.models import PurchaseOrder

from . import services


def on_combinations_changed(
    sender: type[Combination], *, combination_ids: Collection[int] | None, **kwargs: Any
) -> None:
    services.offers_changed(combination_ids=combination_ids)


def on_purchase_order_saved(
    sender: type[PurchaseOrder],
    *,
    instance: PurchaseOrder,
    created: bool,
    update_fields: Collection[str] | None,
    **kwargs: Any,
) -> None:
    # Every status change of a PO goes through a save naming "status" (orders'
    # _transition); other saves (totals, attempts) cannot change a fulfilment.
    if created or (update_fields is not None and "status" not in update_fields):
        return
    services.fulfilment_po_changed(purchase_order_id=instance.pk)


def connect() -> None:
    combinations_changed.connect(
        on_combinations_changed, sender=Combination, dispatch_uid="channel.combinations_changed"
    )
    post_save.connect(
        on_purchase_order_saved, sender=PurchaseOrder, dispatch_uid="channel.purchase_order_saved"
    )
