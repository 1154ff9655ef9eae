"""keys_deliver_many: many deliveries at once keep every rule of keys_deliver."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

import licendi
from orders import services
from orders.models import LicenceKey, PurchaseOrder, PurchaseOrderLine, UnexpectedKey

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


def placed(*, quantity: int, status: str = S.PENDING_DELIVERY, upstream: bool = True):
    tag = uuid.uuid4().hex[:8]
    po = PurchaseOrder.objects.create(
        status=status,
        external_id=f"PO-MANY-{tag}",
        upstream_id=f"ord-many-{tag}" if upstream else None,
        idempotency_key=uuid.uuid4(),
        invoice_number=f"INV-{tag}",
        upstream_total=Decimal("10.00"),
    )
    PurchaseOrderLine.objects.create(
        purchase_order=po,
        order_sku="MANY-1",
        name="Many",
        quantity=quantity,
        unit_net_price=Decimal("1"),
        upstream_unit_price=Decimal("1"),
    )
    return po


def delivery(po: PurchaseOrder, *keys: str, sku: str = "MANY-1", upstream_id: str | None = None):
    return services.KeyDelivery(
        upstream_order_id=upstream_id or po.upstream_id or "",
        external_id=po.external_id,
        keys=[licendi.DeliveredKey(sku=sku, key=key, name="Many") for key in keys],
    )


def test_deliveries_of_one_order_fill_its_line_in_order_and_store_a_repeated_key_once():
    po = placed(quantity=2)
    outcomes = services.keys_deliver_many(
        deliveries=[delivery(po, "K-1"), delivery(po, "K-1", "K-2"), delivery(po, "K-3")],
        source="webhook",
    )

    assert [outcome.added for outcome in outcomes] == [1, 1, 0]
    assert {outcome.purchase_order for outcome in outcomes} == {po}
    assert po.keys.count() == 2
    aside = UnexpectedKey.objects.get(purchase_order=po)  # over the line's quantity
    assert aside.reason == UnexpectedKey.Reason.OVER_DELIVERED
    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.delivered_at is not None
    messages = list(po.events.values_list("from_status", "to_status", "message"))
    assert (S.PENDING_DELIVERY, S.PENDING_DELIVERY, "2 key(s) received by webhook") in messages
    assert (S.PENDING_DELIVERY, S.DELIVERED, "Keys received by webhook") in messages


def test_an_unknown_order_gets_no_po_while_the_others_apply():
    known = placed(quantity=5)
    stranger = services.KeyDelivery(
        upstream_order_id="ord-nobody",
        external_id="PO-NOBODY",
        keys=[licendi.DeliveredKey(sku="MANY-1", key="K-LOST", name="")],
    )

    outcomes = services.keys_deliver_many(
        deliveries=[stranger, delivery(known, "K-A")], source="webhook"
    )

    assert [(o.purchase_order, o.added) for o in outcomes] == [(None, 0), (known, 1)]
    assert LicenceKey.objects.count() == 1
    with pytest.raises(services.PurchaseOrderNotFound):
        services.keys_deliver(
            upstream_order_id="ord-nobody", external_id=None, keys=[], source="webhook"
        )


def test_a_po_known_only_by_its_external_id_learns_its_upstream_id_once():
    po = placed(quantity=3, status=S.SUBMITTING, upstream=False)
    outcomes = services.keys_deliver_many(
        deliveries=[
            delivery(po, "K-X", upstream_id="ord-learnt"),
            delivery(po, "K-Y", upstream_id="ord-learnt"),
            delivery(po, "K-Z", upstream_id="ord-other"),  # a second upstream id: not this PO
        ],
        source="webhook",
    )

    assert [(o.purchase_order, o.added) for o in outcomes] == [(po, 1), (po, 1), (None, 0)]
    po.refresh_from_db()
    assert po.upstream_id == "ord-learnt"
    assert po.status == S.PARTIALLY_DELIVERED
    messages = list(po.events.values_list("message", flat=True))
    assert messages.count("Licendi order ord-learnt learnt from delivered keys") == 1
    assert "Order placed: its answer never arrived" in messages


def test_keys_of_several_orders_go_each_to_its_own_po():
    first, second = placed(quantity=2), placed(quantity=2)
    services.keys_deliver_many(
        deliveries=[delivery(first, "K-1"), delivery(second, "K-1"), delivery(second, "K-2")],
        source="polling",
    )

    assert first.keys.count() == 1 and second.keys.count() == 2
    assert set(LicenceKey.objects.values_list("source", flat=True)) == {"polling"}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.PARTIALLY_DELIVERED, S.DELIVERED)
