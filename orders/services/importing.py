"""Pulling from Licendi: polling the keys of a PO and importing orders placed elsewhere.

Run by the beat tasks in orders.tasks. An upstream order carrying one of our own
external ids is adopted by that PO rather than imported twice.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

import licendi
from backoffice.upstream import licendi_client
from catalog.models import Combination

from ..models import LicenceKey, PurchaseOrder, PurchaseOrderLine
from ._common import Status, _announce_known, _event
from .keys import _apply_delivery_status, _store_keys, keys_deliver
from .submission import _record_upstream_order


def purchase_order_poll_keys(*, purchase_order_id: int) -> int:
    po = PurchaseOrder.objects.filter(pk=purchase_order_id).first()
    if po is None or not po.upstream_id or po.status not in PurchaseOrder.AWAITING_KEYS_STATUSES:
        return 0
    with licendi_client() as client:
        result = client.get_order_keys(po.upstream_id)
    return keys_deliver(
        upstream_order_id=po.upstream_id,
        external_id=po.external_id,
        keys=result.keys,
        source=LicenceKey.Source.POLLING,
    )


def purchase_order_import(
    *, order: licendi.Order, client: licendi.LicendiClient
) -> PurchaseOrder | None:
    """Mirror one upstream order placed outside the back-office as a read-only PO.

    An order carrying the external id of one of our own POs that never stored its answer
    is adopted by that PO instead (importing it would show one purchase twice).
    Returns the PO created or adopted, None when nothing was done.
    """
    with transaction.atomic():
        if PurchaseOrder.objects.filter(upstream_id=order.id).exists():
            return None
        if order.external_id:
            ours = (
                PurchaseOrder.objects.select_for_update(skip_locked=True)
                .filter(
                    external_id=order.external_id,
                    upstream_id__isnull=True,
                    source=PurchaseOrder.Source.BACKOFFICE,
                )
                .first()
            )
            if ours is not None:
                if ours.status in (Status.SUBMITTING, Status.UNKNOWN):
                    detail = client.get_order(order.id)
                    _record_upstream_order(
                        ours,
                        detail,
                        client=client,
                        key_source=LicenceKey.Source.IMPORT,
                        actor_label="import",
                    )
                    return ours
                return None
        detail = client.get_order(order.id)
        external_id = detail.external_id or None
        if external_id and PurchaseOrder.objects.filter(external_id=external_id).exists():
            external_id = None
        try:
            with transaction.atomic():
                po = PurchaseOrder.objects.create(
                    source=PurchaseOrder.Source.IMPORTED,
                    status=Status.PENDING_DELIVERY,
                    external_id=external_id,
                    upstream_id=detail.id,
                    total=detail.total,
                    upstream_total=detail.total,
                    currency=detail.currency,
                    invoice_number=detail.invoice_number or "",
                    note="Placed outside the back-office",
                    submitted_at=detail.created_at,
                )
        except IntegrityError:
            return None  # imported concurrently by another run
        combinations = {
            c.order_sku: c
            for c in Combination.objects.filter(order_sku__in=[i.sku for i in detail.items])
        }
        for item in detail.items:
            PurchaseOrderLine.objects.create(
                purchase_order=po,
                combination=combinations.get(item.sku),
                order_sku=item.sku,
                name=item.name[:300],
                quantity=max(item.qty, 1),
                unit_net_price=item.unit_price,
                upstream_unit_price=item.unit_price,
            )
        _event(
            po, from_status="", actor_label="import", message=f"Imported Licendi order {detail.id}"
        )
        keys = [
            licendi.DeliveredKey(sku=item.sku, key=key, name=item.name)
            for item in detail.items
            for key in item.keys
        ]
        if not keys and detail.status != "pending":
            keys = list(client.get_order_keys(detail.id).keys)
        _store_keys(po, keys, source=LicenceKey.Source.IMPORT)
        _apply_delivery_status(po, actor_label="import", message="Keys counted at import")
        _announce_known(po)
    return po
