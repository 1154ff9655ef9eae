"""Licence keys: stored once whatever the path, encrypted at rest, never lost when late."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

import licendi
from backoffice import crypto
from orders import services, tasks
from orders.models import LicenceKey, PurchaseOrder

from .helpers import order_debits

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


def test_backorder_gets_its_keys_by_polling_alone(
    sandbox, make_po, confirm, backorder_sku, customer
):
    po = make_po([(backorder_sku, 2)], customer=customer)
    confirm(po)
    assert po.status == S.PENDING_DELIVERY
    assert po.keys.count() == 0

    assert tasks.purchase_orders_poll_pending.delay().get()["keys"] == 0  # still pending
    sandbox.release_pending(po.upstream_id)  # no webhook endpoint registered: none is sent
    counts = tasks.purchase_orders_poll_pending.delay().get()

    po.refresh_from_db()
    assert counts["keys"] == 2
    assert po.status == S.DELIVERED and po.delivered_at is not None
    assert set(po.keys.values_list("source", flat=True)) == {"polling"}
    assert set(po.keys.values_list("customer", flat=True)) == {customer.pk}
    assert len(order_debits(sandbox, po.upstream_id)) == 1


def test_partial_delivery_is_counted(sandbox, make_po, confirm, backorder_sku, stock_skus):
    po = make_po([(stock_skus[0], 1), (backorder_sku, 1)])
    confirm(po)
    assert po.status == S.PARTIALLY_DELIVERED
    sandbox.release_pending(po.upstream_id)
    tasks.purchase_orders_poll_pending.delay()
    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.keys.count() == 2


def test_same_key_by_response_polling_and_webhook_is_stored_once(
    sandbox, make_po, confirm, stock_skus
):
    po = make_po([(stock_skus[0], 2)])
    confirm(po)
    assert po.keys.count() == 2
    upstream = sandbox.orders[po.upstream_id]
    delivered = [
        licendi.DeliveredKey(sku=item["sku"], key=key, name=item["name"])
        for item in upstream["items"]
        for key in item["keys"]
    ]

    polled = services.purchase_order_poll_keys(purchase_order_id=po.pk)  # delivered: not polled
    by_webhook = services.keys_deliver(
        upstream_order_id=po.upstream_id,
        external_id=po.external_id,
        keys=delivered,
        source="webhook",
    )
    # Same key with surrounding whitespace: only that is trimmed before the digest.
    padded = [licendi.DeliveredKey(sku=k.sku, key=f" {k.key}\t") for k in delivered]
    by_polling = services.keys_deliver(
        upstream_order_id=po.upstream_id, external_id=None, keys=padded, source="polling"
    )

    assert (polled, by_webhook, by_polling) == (0, 0, 0)
    assert po.keys.count() == 2
    assert set(po.keys.values_list("source", flat=True)) == {"response"}


def test_webhook_before_the_response_is_stored_attaches_by_external_id(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    [upstream] = [o for o in sandbox.orders.values() if o["externalId"] == po.external_id]
    item = upstream["items"][0]

    announced = []
    from orders.signals import purchase_order_known

    def receiver(sender, purchase_order, **kwargs):
        announced.append(purchase_order.pk)

    purchase_order_known.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            added = services.keys_deliver(
                upstream_order_id=upstream["id"],
                external_id=po.external_id,
                keys=[licendi.DeliveredKey(sku=item["sku"], key=item["keys"][0])],
                source="webhook",
            )
    finally:
        purchase_order_known.disconnect(receiver)

    po.refresh_from_db()
    assert added == 1
    assert po.upstream_id == upstream["id"]
    assert po.status == S.DELIVERED
    assert announced == [po.pk]
    # The task still resolves to the same single order.
    services.purchase_order_submit(purchase_order_id=po.pk)
    assert len(order_debits(sandbox, upstream["id"])) == 1
    assert po.keys.count() == 1


def test_keys_for_an_unknown_order_raise_not_found(db):
    with pytest.raises(services.PurchaseOrderNotFound):
        services.keys_deliver(
            upstream_order_id="ord-nope",
            external_id="PO-1999-0001",
            keys=[licendi.DeliveredKey(sku="1", key="AAAAA")],
            source="webhook",
        )


def test_keys_are_unreadable_without_the_encryption_key(
    sandbox, make_po, confirm, stock_skus, settings
):
    po = make_po([(stock_skus[0], 1)])
    confirm(po)
    key = po.keys.get()
    clear = sandbox.orders[po.upstream_id]["items"][0]["keys"][0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key_encrypted, key_hash, key_masked FROM orders_licencekey WHERE id = %s",
            [key.pk],
        )
        raw, key_hash, masked = cursor.fetchone()

    assert clear not in raw and clear not in key_hash and clear not in masked
    assert raw.startswith("gAAAA")  # a Fernet token
    assert crypto.decrypt(raw) == clear
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(raw.encode())
    assert masked.endswith(clear[-5:]) and len(masked) < len(clear)


def test_rotate_keys_reencrypts_under_the_newest_key(
    sandbox, make_po, confirm, stock_skus, settings
):
    po = make_po([(stock_skus[0], 2)])
    confirm(po)
    clear = sorted(sandbox.orders[po.upstream_id]["items"][0]["keys"])
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("rotate_keys")

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is dropped
    assert sorted(crypto.decrypt(k.key_encrypted) for k in po.keys.all()) == clear


def test_stock_key_is_assigned_to_a_customer_and_audited(
    sandbox, make_po, confirm, stock_skus, customer, buyer
):
    from backoffice.models import AuditEvent

    po = make_po([(stock_skus[0], 1)])  # no customer: the key goes to stock
    confirm(po)
    key = po.keys.get()
    assert key.in_stock

    services.licence_key_assign(key_id=key.pk, customer=customer, user=buyer)

    key.refresh_from_db()
    assert key.customer == customer and key.assigned_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_ASSIGN)
    assert event.details == {"key_id": key.pk, "customer": customer.pk}


def test_imported_order_keys_land_in_stock(sandbox, combos, stock_skus):
    order = sandbox.place_order([(stock_skus[0], 1)], external_id="SHOP-42")
    tasks.purchase_orders_import.delay()
    po = PurchaseOrder.objects.get(upstream_id=order["id"])
    assert LicenceKey.objects.filter(purchase_order=po, customer__isnull=True).count() == 1
