"""Factories for wallet tests."""

import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import PurchaseOrder
from wallet.models import LedgerEntry
from wallet.services import POSITION_STEP


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    upstream_id = factory.Sequence(lambda n: f"led-f{n:07d}")
    position = factory.Sequence(lambda n: (n + 1) * POSITION_STEP)
    created_at = factory.LazyFunction(timezone.now)
    type = LedgerEntry.Type.ORDER
    amount = Decimal("-10.00")
    balance_after = Decimal("100.00")
    reference = factory.Sequence(lambda n: f"ord-f{n:06d}")
    description = ""
    first_seen_at = factory.LazyFunction(timezone.now)


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    """A PO that went upstream; `upstream_id` is the order id upstream gave it."""

    class Meta:
        model = PurchaseOrder

    external_id = factory.Sequence(lambda n: f"PO-2026-{n + 1:04d}")
    upstream_id = factory.Sequence(lambda n: f"ord-po{n:06d}")
    idempotency_key = factory.LazyFunction(uuid.uuid4)
    status = PurchaseOrder.Status.DELIVERED
    total = Decimal("10.00")
    # What the order answer recorded (a delivered PO without them is listed for follow-up).
    upstream_total = Decimal("10.00")
    invoice_number = factory.Sequence(lambda n: f"INV-2026-{n + 1:06d}")
