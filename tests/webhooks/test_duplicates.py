"""At-least-once delivery: a repeated event id is acknowledged and applied once."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from orders.models import LicenceKey
from orders.services import purchase_order_submit
from webhooks.models import WebhookEvent

from .conftest import RECEIVER
from .factories import (
    WebhookEndpointFactory,
    WebhookEventFactory,
    event_body,
    new_secret,
    purchase_order_submitting,
    signed_headers,
)


def in_stock_sku(sb, index: int = 0) -> str:
    sku = sb.order_skus()[index]
    sb.set_stock(sku, "in_stock")
    return sku


def _order_delivered(sb, po):
    """Submit `po` to the sandbox; returns the body of an order.delivered event for it."""
    purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    order = sb.orders[po.upstream_id]
    keys = [
        {"sku": item["sku"], "name": item["name"], "key": key}
        for item in order["items"]
        for key in item["keys"]
    ]
    return event_body(
        "order.delivered",
        {"orderId": po.upstream_id, "externalId": po.external_id, "keys": keys},
    ), keys


@pytest.mark.django_db
def test_a_duplicate_answers_2xx_counts_and_changes_nothing_else(
    sandbox, post_signed, django_capture_on_commit_callbacks
):
    sku = in_stock_sku(sandbox, 0)
    po = purchase_order_submitting(lines=[(sku, 2)])
    body, keys = _order_delivered(sandbox, po)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_signed(body)
    event = WebhookEvent.objects.get()
    assert first.status_code == 200 and event.status == WebhookEvent.Status.PROCESSED
    before = {f: getattr(event, f) for f in ("status", "payload", "processed_at", "attempts")}

    # A redelivery (freshly signed, as senders do): 2xx, nothing queued, nothing re-applied.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post_signed(body)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert callbacks == []
    event.refresh_from_db()
    assert event.duplicate_count == 1 and event.last_duplicate_at is not None
    assert {f: getattr(event, f) for f in before} == before
    assert WebhookEvent.objects.count() == 1
    assert LicenceKey.objects.filter(purchase_order=po).count() == len(keys) == 2


@pytest.mark.django_db
def test_a_redelivery_days_later_is_still_a_duplicate(post_signed, endpoint_secret):
    old = WebhookEventFactory(
        event_id="evt_old",
        type="ping",
        status=WebhookEvent.Status.IGNORED,
        received_at=timezone.now() - timedelta(days=10),
    )
    response = post_signed(event_body("ping", {}, event_id="evt_old"))
    assert response.status_code == 200 and response.json() == {"status": "duplicate"}
    old.refresh_from_db()
    assert old.duplicate_count == 1 and old.status == WebhookEvent.Status.IGNORED


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_deliveries_store_and_apply_once(sandbox):
    secret = new_secret()
    WebhookEndpointFactory(secret=secret)
    sku = in_stock_sku(sandbox, 1)
    po = purchase_order_submitting(lines=[(sku, 3)])
    # Keys arrive only by webhook here: the response's keys are removed first.
    body, keys = _order_delivered(sandbox, po)
    LicenceKey.objects.filter(purchase_order=po).delete()

    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            client = Client()
            headers = signed_headers(secret, body)
            barrier.wait(timeout=10)
            response = client.post(RECEIVER, data=body, content_type="application/json", **headers)
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [200, 200, 200, 200]
    event = WebhookEvent.objects.get()
    assert event.duplicate_count == 3
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.attempts == 1
    assert LicenceKey.objects.filter(purchase_order=po).count() == len(keys) == 3


@pytest.mark.django_db(transaction=True)
def test_a_drain_that_skips_a_row_a_duplicate_holds_is_followed_by_another(sandbox, monkeypatch):
    """A duplicate's counter UPDATE locks the stored event; a drain running meanwhile skips
    it (SKIP LOCKED). The duplicate asks for a drain once it commits, so the event is
    applied then and not left for the beat's sweep."""
    from django.db import transaction

    from webhooks.receiver import parse
    from webhooks.services import deliveries

    sku = in_stock_sku(sandbox, 1)
    po = purchase_order_submitting(lines=[(sku, 2)])
    body, keys = _order_delivered(sandbox, po)
    LicenceKey.objects.filter(purchase_order=po).delete()
    delivery = parse({}, body)
    with monkeypatch.context() as quiet:  # store it without a drain
        quiet.setattr(deliveries._drain_requests, "delivered", lambda: None)
        deliveries.webhook_event_record(delivery=delivery)

    locked, release = threading.Event(), threading.Event()

    def duplicate() -> None:
        try:
            with transaction.atomic():
                deliveries.webhook_event_record(delivery=delivery)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=duplicate)
    thread.start()
    assert locked.wait(timeout=10)
    assert deliveries.webhook_events_drain()["applied"] == 0  # the row was locked
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
    release.set()
    thread.join(timeout=30)

    event = WebhookEvent.objects.get()
    assert (event.status, event.duplicate_count, event.attempts) == (
        WebhookEvent.Status.PROCESSED,
        1,
        1,
    )
    assert LicenceKey.objects.filter(purchase_order=po).count() == len(keys) == 2
