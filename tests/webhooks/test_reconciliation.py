"""Keys from webhooks, order responses and polling converge, whatever the order of arrival."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from backoffice import crypto
from backoffice.upstream import licendi_client
from licendi import OrderLineRequest
from orders import services as order_services
from orders.models import LicenceKey, PurchaseOrder
from webhooks import services, tasks
from webhooks.models import WebhookEvent

from .conftest import RECEIVER
from .factories import WebhookEventFactory, purchase_order_submitting

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooked(sandbox, db):
    """The sandbox with a registered endpoint whose deliveries are collected, not sent."""
    services.webhook_endpoint_register(
        url="http://testserver" + RECEIVER, events=["order.delivered", "key.assigned"]
    )
    collected: list[tuple[dict[str, str], bytes]] = []

    def collect(url: str, headers: dict[str, str], body: bytes) -> int:
        collected.append((headers, body))
        return 200

    sandbox.webhook_sender = collect
    sandbox.collected = collected
    return sandbox


def flush(sb) -> list[tuple[dict[str, str], bytes]]:
    """Every queued delivery, as signed by the sandbox, in the order it was emitted."""
    sb.collected.clear()
    sb.deliver_webhooks()
    return list(sb.collected)


def kind(delivery) -> str:
    return json.loads(delivery[1])["type"]


def replay(deliveries, capture) -> list[int]:
    client = Client()
    statuses = []
    for headers, body in deliveries:
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        meta.pop("HTTP_CONTENT_TYPE", None)
        with capture(execute=True):
            response = client.post(RECEIVER, data=body, content_type="application/json", **meta)
        statuses.append(response.status_code)
    return statuses


def sku_in(sb, state: str, index: int = 0) -> str:
    sku = sb.order_skus()[index]
    sb.set_stock(sku, state)
    return sku


def create_upstream_without_storing(po) -> str:
    """The order reaches Licendi but its answer is lost (timeout): returns its id."""
    with licendi_client() as client:
        result = client.create_order(
            items=[
                OrderLineRequest(sku=line.order_sku, qty=line.quantity) for line in po.lines.all()
            ],
            external_id=po.external_id,
            idempotency_key=str(po.idempotency_key),
        )
    return result.order.id


def assert_converged(sb, po) -> set[str]:
    po.refresh_from_db()
    upstream = sb.orders[po.upstream_id]
    expected = {key for item in upstream["items"] for key in item["keys"]}
    stored = [crypto.decrypt(k.key_encrypted) for k in LicenceKey.objects.filter(purchase_order=po)]
    assert sorted(stored) == sorted(expected)  # each key once, none missing
    assert len(stored) == sum(line.quantity for line in po.lines.all())
    assert po.status == PurchaseOrder.Status.DELIVERED
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    return expected


def test_key_assigned_before_the_order_response_converges(
    hooked, django_capture_on_commit_callbacks
):
    po = purchase_order_submitting(lines=[(sku_in(hooked, "backorder"), 2)])
    order_id = create_upstream_without_storing(po)
    hooked.release_pending(order_id)
    deliveries = flush(hooked)
    assigned = [d for d in deliveries if kind(d) == "key.assigned"]
    delivered = [d for d in deliveries if kind(d) == "order.delivered"]
    assert len(assigned) == 2 and len(delivered) == 1

    assert replay(assigned, django_capture_on_commit_callbacks) == [200, 200]
    po.refresh_from_db()
    assert po.upstream_id == order_id  # learnt from the webhook, before the response
    assert po.keys.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)  # the stored answer
    assert replay(delivered, django_capture_on_commit_callbacks) == [200]
    assert_converged(hooked, po)


def test_order_delivered_before_key_assigned_converges(hooked, django_capture_on_commit_callbacks):
    po = purchase_order_submitting(lines=[(sku_in(hooked, "backorder", 1), 3)])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.PENDING_DELIVERY
    hooked.release_pending(po.upstream_id)
    deliveries = flush(hooked)
    reordered = [d for d in deliveries if kind(d) == "order.delivered"] + [
        d for d in deliveries if kind(d) == "key.assigned"
    ]
    assert replay(reordered, django_capture_on_commit_callbacks) == [200] * 4
    assert_converged(hooked, po)
    assert set(po.keys.values_list("source", flat=True)) == {LicenceKey.Source.WEBHOOK}


def test_the_same_key_by_response_webhook_and_polling_is_stored_once(
    hooked, django_capture_on_commit_callbacks
):
    po = purchase_order_submitting(lines=[(sku_in(hooked, "in_stock", 2), 2)])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)
    assert replay(flush(hooked), django_capture_on_commit_callbacks) == [200]
    po.refresh_from_db()
    with licendi_client() as client:
        polled = client.get_order_keys(po.upstream_id).keys
    added = order_services.keys_deliver(
        upstream_order_id=po.upstream_id, external_id=po.external_id, keys=polled, source="polling"
    )
    assert added == 0
    assert_converged(hooked, po)
    assert set(po.keys.values_list("source", flat=True)) == {LicenceKey.Source.RESPONSE}
    event = WebhookEvent.objects.get()
    assert event.keys_stored == 0 and event.purchase_order == po


def test_an_event_for_an_unknown_order_waits_until_the_po_gets_its_upstream_id(
    hooked, django_capture_on_commit_callbacks
):
    external_id = f"PO-T-{uuid.uuid4().hex[:8].upper()}"
    idempotency_key = uuid.uuid4()
    sku = sku_in(hooked, "in_stock", 3)
    # The order reached Licendi, its webhook comes first, and no PO row matches it yet.
    with licendi_client() as client:
        order = client.create_order(
            items=[OrderLineRequest(sku=sku, qty=1)],
            external_id=external_id,
            idempotency_key=str(idempotency_key),
        ).order
    assert replay(flush(hooked), django_capture_on_commit_callbacks) == [200]
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.WAITING and event.purchase_order is None

    po = purchase_order_submitting(lines=[(sku, 1)], external_id=external_id)
    po.idempotency_key = idempotency_key
    po.status = PurchaseOrder.Status.UNKNOWN
    po.save(update_fields=["idempotency_key", "status"])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.purchase_order == po and po.pk and order.id
    assert_converged(hooked, po)


def test_an_event_for_a_dashboard_order_is_applied_when_the_import_brings_it(
    hooked, django_capture_on_commit_callbacks
):
    sku = sku_in(hooked, "in_stock", 4)
    placed = hooked.place_order([(sku, 1)])
    assert replay(flush(hooked), django_capture_on_commit_callbacks) == [200]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.WAITING

    with django_capture_on_commit_callbacks(execute=True), licendi_client() as client:
        po = order_services.purchase_order_import(
            order=client.get_order(placed["id"]), client=client
        )
    assert po is not None
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PROCESSED and event.purchase_order == po


def test_the_beat_task_applies_waiting_events_and_marks_long_waiting_ones_foreign(
    hooked, django_capture_on_commit_callbacks, settings
):
    sku = sku_in(hooked, "in_stock", 5)
    first = hooked.place_order([(sku, 1)])
    second = hooked.place_order([(sku, 1)])
    assert replay(flush(hooked), django_capture_on_commit_callbacks) == [200, 200]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"waiting"}

    # The first order arrives without any signal (e.g. a row written by a data fix).
    po = purchase_order_submitting(lines=[(sku, 1)])
    PurchaseOrder.objects.filter(pk=po.pk).update(upstream_id=first["id"])
    # The second one has waited past the limit while the import kept running.
    settings.WEBHOOK_FOREIGN_AFTER_HOURS = 24
    WebhookEvent.objects.filter(upstream_order_id=second["id"]).update(
        received_at=timezone.now() - timedelta(hours=25)
    )
    result = tasks.webhook_events_process_waiting.delay().get()
    assert result["processed"] == 1 and result["marked_foreign"] == 1
    assert WebhookEvent.objects.get(upstream_order_id=first["id"]).status == "processed"
    foreign = WebhookEvent.objects.get(upstream_order_id=second["id"])
    assert foreign.status == WebhookEvent.Status.FOREIGN  # kept and shown, not dropped
    assert foreign.payload["data"]["orderId"] == second["id"]


def test_an_unknown_event_type_is_stored_and_ignored(
    post_signed, django_capture_on_commit_callbacks
):
    from .factories import event_body

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(event_body("invoice.issued", {"orderId": "ord-1", "key": "K-1"}))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.type == "invoice.issued" and event.status == WebhookEvent.Status.IGNORED
    assert event.payload["data"]["key"] != "K-1"  # encrypted even in unknown types


def test_processing_twice_applies_once(hooked, django_capture_on_commit_callbacks):
    po = purchase_order_submitting(lines=[(sku_in(hooked, "backorder", 6), 1)])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)
    hooked.release_pending(po.upstream_id)
    flush(hooked)
    event = WebhookEventFactory(type="key.assigned", status="failed")
    for headers, body in hooked.collected:
        if kind((headers, body)) == "key.assigned":
            from webhooks.receiver import parse

            delivery = parse(headers, body)
            WebhookEvent.objects.filter(pk=event.pk).update(
                payload=delivery.payload, upstream_order_id=delivery.upstream_order_id
            )
    first = services.webhook_event_process(event_pk=event.pk)
    second = services.webhook_event_process(event_pk=event.pk)
    assert first.status == second.status == WebhookEvent.Status.PROCESSED
    assert second.attempts == 1 and first.keys_stored == 1
    assert po.keys.count() == 1


def test_a_failed_event_keeps_its_traceback_and_reprocesses_to_processed(
    hooked, django_capture_on_commit_callbacks, monkeypatch, admin_client
):
    po = purchase_order_submitting(lines=[(sku_in(hooked, "backorder", 7), 1)])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)
    hooked.release_pending(po.upstream_id)
    deliveries = [d for d in flush(hooked) if kind(d) == "key.assigned"]
    clear_key = json.loads(deliveries[0][1])["data"]["key"]

    def broken(**kwargs):
        key = kwargs["deliveries"][0].keys[0].key
        raise RuntimeError(f"database hiccup while storing {key}")

    monkeypatch.setattr(order_services, "keys_deliver_many", broken)
    assert replay(deliveries, django_capture_on_commit_callbacks) == [200]
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "RuntimeError: database hiccup" in event.error
    assert "Traceback" in event.traceback and "broken" in event.traceback
    assert clear_key not in event.error + event.traceback  # masked in the error text
    detail = admin_client.get(event.get_absolute_url())
    assert b"database hiccup" in detail.content and clear_key.encode() not in detail.content

    monkeypatch.undo()
    for _ in range(2):  # a double click is harmless
        response = admin_client.post(f"/webhooks/events/{event.pk}/reprocess/")
        assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED and event.attempts == 2
    assert event.error == "" and event.traceback == ""
    assert po.keys.count() == 1


def test_no_plaintext_key_is_left_in_any_table(hooked, django_capture_on_commit_callbacks):
    po = purchase_order_submitting(lines=[(sku_in(hooked, "backorder", 8), 2)])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.purchase_order_submit(purchase_order_id=po.pk)
    hooked.release_pending(po.upstream_id)
    assert replay(flush(hooked), django_capture_on_commit_callbacks) == [200] * 3
    keys = assert_converged(hooked, po)
    assert WebhookEvent.objects.get(type="order.delivered").key_count == 2

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            for column in columns:
                for key in keys:
                    cursor.execute(
                        f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',  # noqa: S608
                        [f"%{key}%"],
                    )
                    assert cursor.fetchone()[0] == 0, f"plaintext key in {table}.{column}"
