"""Draft purchase orders: creating one, editing its customer and note, setting lines.

A draft is local only; prices come from the local catalog and are refreshed at
confirmation (see confirmation.py).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from catalog.models import Combination

from ..models import Customer, PurchaseOrder, PurchaseOrderLine
from .errors import InvalidState, OrdersError, UnknownCombination
from .timeline import Status, lock_or_raise, recompute_total, record_event


def purchase_order_create(
    *, user: User, customer: Customer | None = None, note: str = ""
) -> PurchaseOrder:
    with transaction.atomic():
        po = PurchaseOrder.objects.create(
            created_by=user, customer=customer, note=note, status=Status.DRAFT
        )
        record_event(po, from_status="", actor=user, message="Draft created")
    return po


def _editable(purchase_order_id: int) -> PurchaseOrder:
    po = lock_or_raise(purchase_order_id)
    if not po.is_editable:
        raise InvalidState(f"{po} is {po.get_status_display().lower()}: it can no longer be edited")
    return po


def purchase_order_update(
    *, purchase_order_id: int, customer: Customer | None, note: str
) -> PurchaseOrder:
    with transaction.atomic():
        po = _editable(purchase_order_id)
        po.customer = customer
        po.note = note
        po.save(update_fields=["customer", "note", "updated_at"])
    return po


def purchase_order_line_set(
    *, purchase_order_id: int, order_sku: str, quantity: int
) -> PurchaseOrderLine | None:
    """Add a combination, or change its quantity (0 removes the line). Prices come from
    the local catalog and are refreshed at confirmation."""
    order_sku = order_sku.strip()
    if quantity < 0:
        raise OrdersError("Quantity cannot be negative")
    with transaction.atomic():
        po = _editable(purchase_order_id)
        combination = (
            Combination.objects.select_related("product")
            .filter(order_sku=order_sku, is_active=True, product__is_active=True)
            .first()
        )
        if combination is None:
            raise UnknownCombination(f"No active catalog item with order sku {order_sku!r}")
        line = po.lines.filter(order_sku=order_sku).first()
        if quantity == 0:
            if line is not None:
                line.delete()
            line = None
        elif line is None:
            line = PurchaseOrderLine.objects.create(
                purchase_order=po,
                combination=combination,
                order_sku=order_sku,
                name=str(combination)[:300],
                quantity=quantity,
                unit_net_price=combination.net_price,
            )
        else:
            line.quantity = quantity
            line.unit_net_price = combination.net_price
            line.save(update_fields=["quantity", "unit_net_price"])
        po.total = recompute_total(po)
        po.save(update_fields=["total", "updated_at"])
    return line
