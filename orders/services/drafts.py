"""Draft purchase orders: creating one, editing its customer and note, setting lines.

A draft is local only; prices come from the local catalog and are refreshed at
confirmation (see confirmation.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from backoffice.bulk import BulkOutcome
from catalog.models import Combination

from ..models import Customer, PurchaseOrder, PurchaseOrderLine
from .errors import InvalidState, OrdersError, UnknownCombination
from .timeline import Status, lock_or_raise, recompute_total, record_event

# The most of one combination a line may hold (the line forms' bound too).
MAX_LINE_QUANTITY = 1000


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


def _orderable(order_skus: Sequence[str]) -> set[str]:
    return set(
        Combination.objects.filter(
            order_sku__in=order_skus, is_active=True, product__is_active=True
        ).values_list("order_sku", flat=True)
    )


def purchase_order_lines_add(
    *,
    user: User,
    items: Sequence[tuple[str, int]],
    purchase_order_id: int | None = None,
    outcome: BulkOutcome | None = None,
) -> tuple[PurchaseOrder | None, BulkOutcome]:
    """Add several catalog items to one of the user's drafts, or to a new draft when
    `purchase_order_id` is None. An item already on the draft gets the quantity added to
    its line. Each item is done or refused with its reason (not an active catalog item,
    the line would pass MAX_LINE_QUANTITY); a new draft is created only when at least one
    item can go on it (else the PO returned is None)."""
    outcome = outcome if outcome is not None else BulkOutcome(noun="item")
    orderable = _orderable([sku for sku, _quantity in items])
    wanted: list[tuple[str, int]] = []
    for sku, quantity in items:
        if sku not in orderable:
            outcome.refuse(sku, "not an active catalog item")
        elif not 1 <= quantity <= MAX_LINE_QUANTITY:
            outcome.refuse(sku, f"quantity must be 1 to {MAX_LINE_QUANTITY}")
        else:
            wanted.append((sku, quantity))
    if not wanted and purchase_order_id is None:
        return None, outcome
    with transaction.atomic():
        if purchase_order_id is None:
            po = purchase_order_create(user=user)
        else:
            po = _editable(purchase_order_id)
            if po.created_by_id != user.pk:
                raise InvalidState(f"{po} is not one of your drafts")
        current = dict(po.lines.values_list("order_sku", "quantity"))
        for sku, quantity in wanted:
            total = current.get(sku, 0) + quantity
            if total > MAX_LINE_QUANTITY:
                outcome.refuse(sku, f"the line would hold {total}, more than {MAX_LINE_QUANTITY}")
                continue
            try:
                purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=total)
            except OrdersError as exc:
                outcome.refuse(sku, str(exc))
            else:
                current[sku] = total
                outcome.done.append(sku)
    po.refresh_from_db()
    return po, outcome
