"""Orders placed outside the back-office are imported read-only; ours are never duplicated."""

import pytest

from orders import services, tasks
from orders.models import PurchaseOrder

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


def test_outside_orders_are_imported_once_and_read_only(
    sandbox, combos, stock_skus, admin_client, django_capture_on_commit_callbacks
):
    from orders.signals import purchase_order_known

    announced = []

    def receiver(sender, purchase_order, **kwargs):
        announced.append(purchase_order.upstream_id)

    order = sandbox.place_order([(stock_skus[0], 2)], external_id="SHOP-7")
    purchase_order_known.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = tasks.purchase_orders_import.delay().get()
        second = tasks.purchase_orders_import.delay().get()
    finally:
        purchase_order_known.disconnect(receiver)

    assert first["imported"] == 1 and second["imported"] == 0
    po = PurchaseOrder.objects.get(upstream_id=order["id"])
    assert announced == [order["id"]]
    assert po.source == PurchaseOrder.Source.IMPORTED and po.is_read_only
    assert po.status == S.DELIVERED and po.keys.count() == 2
    assert po.external_id == "SHOP-7"
    line = po.lines.get()
    assert line.combination == combos[stock_skus[0]] and line.quantity == 2

    page = admin_client.get(f"/orders/{po.pk}/").content.decode()
    assert "read-only" in page and "Confirm order" not in page
    response = admin_client.get("/orders/?source=imported")
    assert "SHOP-7" in response.content.decode()
    with pytest.raises(services.InvalidState):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=None)
    with pytest.raises(services.InvalidState):
        services.purchase_order_cancel(purchase_order_id=po.pk, user=None)


def test_import_adopts_our_own_order_that_never_stored_its_answer(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)

    tasks.purchase_orders_import.delay()

    assert PurchaseOrder.objects.count() == 1
    po.refresh_from_db()
    assert po.source == PurchaseOrder.Source.BACKOFFICE
    assert po.upstream_id and po.status == S.DELIVERED


def test_pending_outside_order_is_imported_pending_then_polled(sandbox, combos, stock_skus):
    sandbox.set_stock(stock_skus[0], "backorder")
    order = sandbox.place_order([(stock_skus[0], 1)])
    tasks.purchase_orders_import.delay()
    po = PurchaseOrder.objects.get(upstream_id=order["id"])
    assert po.status == S.PENDING_DELIVERY and po.external_id is None

    sandbox.release_pending(order["id"])
    tasks.purchase_orders_poll_pending.delay()
    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.keys.count() == 1


def test_unknown_order_is_resolved_by_polling(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    sandbox.faults.inject(method="POST", path="/api/orders", kind="status", status=503)
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)

    counts = tasks.purchase_orders_poll_pending.delay().get()

    po.refresh_from_db()
    assert counts["resolved"] == 1
    assert po.status == S.DELIVERED
    assert po.events.filter(actor_label="beat").exists()


def test_po_left_queued_is_sent_by_polling(
    sandbox, make_po, stock_skus, buyer, monkeypatch, settings
):
    """The broker was down at confirmation: the submission task never ran."""
    from datetime import timedelta

    from django.utils import timezone

    po = make_po([(stock_skus[0], 1)])
    services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)  # on_commit never runs
    PurchaseOrder.objects.filter(pk=po.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.ORDER_RECOVERY_AFTER_SECONDS + 1)
    )

    tasks.purchase_orders_poll_pending.delay()

    po.refresh_from_db()
    assert po.status == S.DELIVERED


def test_imported_orders_are_named_by_licendi_not_as_drafts(
    sandbox, combos, stock_skus, client_for
):
    from django.urls import reverse

    from tests.wallet.factories import LedgerEntryFactory

    first = sandbox.place_order([(stock_skus[0], 1)], external_id="SHOP-9")
    no_number = sandbox.place_order([(stock_skus[1], 1)])
    tasks.purchase_orders_import.delay().get()
    # The shop reused its number: the second order cannot carry it here.
    taken = sandbox.place_order([(stock_skus[2], 1)], external_id="SHOP-9")
    tasks.purchase_orders_import.delay().get()

    plain = PurchaseOrder.objects.get(upstream_id=no_number["id"])
    clash = PurchaseOrder.objects.get(upstream_id=taken["id"])
    assert str(plain) == f"Licendi {no_number['id']}"
    assert str(clash) == f"Licendi {taken['id']}"
    assert str(PurchaseOrder.objects.get(upstream_id=first["id"])) == "SHOP-9"
    # Licendi's externalId that could not be kept is still on the record.
    assert "SHOP-9" in clash.note

    client = client_for("Finance")
    listing = client.get(reverse("orders:po_list"), {"source": "imported"}).content.decode()
    assert "Draft #" not in listing and f"Licendi {no_number['id']}" in listing
    page = client.get(reverse("orders:po_detail", args=[plain.pk])).content.decode()
    assert "Draft #" not in page and f"Licendi {no_number['id']}" in page

    LedgerEntryFactory(reference=no_number["id"])
    ledger = client.get(reverse("wallet:ledger")).content.decode()
    assert f">Licendi {no_number['id']}</a>" in ledger and f">#{plain.pk}<" not in ledger
    export = client.post(reverse("wallet:ledger"), {"_export": "csv"})
    body = b"".join(export.streaming_content).decode()
    assert f"Licendi {no_number['id']}" in body
