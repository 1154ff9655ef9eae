"""Every call the channel makes into orders, in one place.

Customers, stock keys and purchase orders belong to orders; the channel uses its public
services with keyword arguments, acting as the client's service user (set in the audit
context, so audit rows and PO timelines name the shop, never a person).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User

from backoffice.context import audit_context
from orders import services as orders
from orders.models import Customer, LicenceKey, PurchaseOrder


@dataclass(frozen=True)
class LineToBuy:
    order_sku: str
    quantity: int


def customer_for(*, email: str, name: str) -> Customer:
    """The customer with this e-mail (the first one on record), or a new one: a shop's
    repeat buyer keeps one record of their keys."""
    email = email.strip()
    existing = Customer.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is not None:
        return existing
    return orders.customer_create(name=name.strip()[:200] or email, email=email)


def stock_keys_take(
    *, order_sku: str, quantity: int, customer: Customer, user: User
) -> list[LicenceKey]:
    """Assign up to `quantity` stock keys (held, no customer yet) of `order_sku` to the
    customer, oldest first. Rows another transaction is taking are skipped, never waited
    for, so two fulfilments never get the same key. Call inside a transaction."""
    keys = list(
        LicenceKey.objects.select_for_update(skip_locked=True)
        .filter(order_sku=order_sku, customer__isnull=True)
        .order_by("pk")[:quantity]
    )
    with audit_context(user=user):
        for key in keys:
            orders.licence_key_assign(key_id=key.pk, customer=customer, user=user)
    return keys


def stock_key_count(*, order_sku: str) -> int:
    return LicenceKey.objects.filter(order_sku=order_sku, customer__isnull=True).count()


def purchase_order_place(
    *,
    customer: Customer,
    lines: Sequence[LineToBuy],
    note: str,
    user: User,
    require_approval: bool,
) -> PurchaseOrder:
    """Create, fill and confirm a PO for the customer through the ordinary services: the
    confirmation, the four-eyes approval, the submission task and its price guard apply
    as to any PO. Call inside a transaction: the submission is queued on commit."""
    with audit_context(user=user):
        po = orders.purchase_order_create(user=user, customer=customer, note=note)
        for line in lines:
            orders.purchase_order_line_set(
                purchase_order_id=po.pk, order_sku=line.order_sku, quantity=line.quantity
            )
        outcome = orders.purchase_order_confirm(
            purchase_order_id=po.pk, user=user, require_approval=require_approval
        )
    return outcome.purchase_order
