"""The drain: received events applied in batches, once each, whatever runs beside it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client

from orders.models import LicenceKey, PurchaseOrder, PurchaseOrderLine
from webhooks import receiver as receiving
from webhooks import services
from webhooks.models import WebhookEvent
from webhooks.services import deliveries

from .conftest import RECEIVER
from .factories import WebhookEndpointFactory, event_body, new_secret, signed_headers

SKU = "DRAIN-1"


def purchase_order_delivering(n: int) -> PurchaseOrder:
    """A PO placed upstream, waiting for its keys, with nothing left to fetch about it."""
    po = PurchaseOrder.objects.create(
        status=PurchaseOrder.Status.PENDING_DELIVERY,
        external_id=f"PO-DRAIN-{n:04d}-{uuid.uuid4().hex[:6]}",
        upstream_id=f"ord-drain-{n:04d}-{uuid.uuid4().hex[:6]}",
        idempotency_key=uuid.uuid4(),
        invoice_number=f"INV-{n}",
        upstream_total=Decimal("100.00"),
    )
    PurchaseOrderLine.objects.create(
        purchase_order=po,
        order_sku=SKU,
        name="Drain",
        quantity=1000,
        unit_net_price=Decimal("1"),
        upstream_unit_price=Decimal("1"),
    )
    return po


def store_without_draining(body: bytes) -> int:
    """Record a delivery as the receiver does, while a drain is already pending."""
    cache.set(deliveries.DRAIN_PENDING_KEY, 1, timeout=60)
    pk, created = services.webhook_event_record(delivery=receiving.parse({}, body))
    assert created
    return pk


def key_assigned(po: PurchaseOrder, key: str) -> bytes:
    return event_body(
        "key.assigned",
        {"orderId": po.upstream_id, "externalId": po.external_id, "sku": SKU, "key": key},
    )


def wait_for_a_blocked_query() -> None:
    """Return once another connection waits on a lock in this database (bounded)."""
    with connections["default"].cursor() as cursor:
        for _ in range(200):
            # Statistics views are a snapshot per transaction unless cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = cursor.fetchone()
            if row and row[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("the repeated delivery never waited on the drain's locks")


def in_threads(target: Callable[[], object], count: int) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_apply_each_event_of_a_backlog_once():
    pos = [purchase_order_delivering(n) for n in range(6)]
    keys = [f"DRAIN-KEY-{n:04d}-{uuid.uuid4().hex[:6]}" for n in range(60)]
    for n, key in enumerate(keys):
        # Events of every PO interleaved, as deliveries arrive.
        store_without_draining(key_assigned(pos[n % len(pos)], key))

    # Each drain also queues a helper after a full batch (run at once here: eager tasks).
    in_threads(lambda: services.webhook_events_drain(batch=7), 2)

    events = WebhookEvent.objects.all()
    assert events.count() == 60
    assert set(events.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert set(events.values_list("attempts", flat=True)) == {1}
    assert LicenceKey.objects.filter(order_sku=SKU).count() == 60
    assert {po.pk: po.keys.count() for po in pos} == {po.pk: 10 for po in pos}


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_delivered_during_a_drain_is_counted_and_not_applied_again():
    secret = new_secret()
    WebhookEndpointFactory(secret=secret)
    po = purchase_order_delivering(0)
    body = key_assigned(po, f"DRAIN-DUP-{uuid.uuid4().hex}")
    event_pk = store_without_draining(body)
    others = [store_without_draining(key_assigned(po, f"DRAIN-{n}")) for n in range(20)]

    # The drain holds the batch's row locks while the repeat arrives over HTTP: the
    # first event it applies waits until the repeat is blocked on those locks.
    started, answered = threading.Event(), threading.Event()
    original_apply = deliveries._apply
    statuses: list[int] = []

    def apply_once_the_repeat_waits(events: list[WebhookEvent]) -> None:
        if not started.is_set():
            started.set()
            wait_for_a_blocked_query()
        original_apply(events)

    def repeat() -> None:
        try:
            assert started.wait(timeout=10)
            response = Client().post(
                RECEIVER, data=body, content_type="application/json", **signed_headers(secret, body)
            )
            statuses.append(response.status_code)
            assert response.json() == {"status": "duplicate"}
        finally:
            answered.set()
            connections.close_all()

    deliveries._apply = apply_once_the_repeat_waits  # type: ignore[assignment]
    try:
        thread = threading.Thread(target=repeat)
        thread.start()
        counts = services.webhook_events_drain(batch=50)
        thread.join(timeout=30)
    finally:
        deliveries._apply = original_apply  # type: ignore[assignment]

    assert answered.is_set() and statuses == [200]
    assert counts["applied"] == 21
    event = WebhookEvent.objects.get(pk=event_pk)
    assert (event.status, event.attempts, event.duplicate_count) == ("processed", 1, 1)
    assert WebhookEvent.objects.filter(pk__in=others, status="processed", attempts=1).count() == 20
    assert LicenceKey.objects.filter(purchase_order=po).count() == 21


@pytest.mark.django_db
def test_an_event_that_fails_does_not_hold_the_rest_of_its_batch():
    po = purchase_order_delivering(0)
    before = store_without_draining(key_assigned(po, "DRAIN-BEFORE"))
    broken = store_without_draining(key_assigned(po, "DRAIN-BROKEN"))
    after = store_without_draining(key_assigned(po, "DRAIN-AFTER"))
    # A stored key that no configured encryption key can read.
    WebhookEvent.objects.filter(pk=broken).update(
        payload={"id": "x", "type": "key.assigned", "data": {"sku": SKU, "key": "not-a-token"}}
    )

    counts = services.webhook_events_drain()

    statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    assert statuses == {before: "processed", broken: "failed", after: "processed"}
    assert counts == {"applied": 3, "processed": 2, "failed": 1}
    assert LicenceKey.objects.filter(purchase_order=po).count() == 2


@pytest.mark.django_db
def test_deliveries_queue_one_drain_while_one_is_pending(post_signed, monkeypatch):
    po = purchase_order_delivering(0)
    queued: list[str] = []
    monkeypatch.setattr(deliveries, "enqueue", lambda name, **kw: queued.append(name))

    for n in range(3):
        assert post_signed(key_assigned(po, f"DRAIN-Q-{n}")).status_code == 200

    # Request transactions commit for real here (the test's own transaction aside):
    # run what each receiver commit would have run.
    for _ in range(3):
        deliveries.drain_soon()
    assert queued == [deliveries.DRAIN_TASK]

    services.webhook_events_drain()  # clears the flag as it starts
    deliveries.drain_soon()
    assert queued == [deliveries.DRAIN_TASK, deliveries.DRAIN_TASK]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


@pytest.mark.django_db
def test_a_delivery_is_applied_by_the_drain_its_commit_queues(
    post_signed, django_capture_on_commit_callbacks
):
    po = purchase_order_delivering(0)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(key_assigned(po, "DRAIN-EAGER"))
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.keys_stored) == ("processed", 1, 1)
    assert cache.get(deliveries.DRAIN_PENDING_KEY) is None


@pytest.mark.django_db
def test_a_delivery_is_still_applied_when_the_cache_is_unreachable(
    post_signed, settings, django_capture_on_commit_callbacks
):
    po = purchase_order_delivering(0)
    # Nothing listens on port 1: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "backoffice.cache.SharedClientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(key_assigned(po, "DRAIN-NO-CACHE"))
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.keys_stored) == ("processed", 1, 1)


def test_a_burst_of_deliveries_asks_for_a_drain_at_once_and_once_after_the_last(
    settings, monkeypatch
):
    settings.WEBHOOK_DRAIN_QUEUE_SECONDS = 0.2
    calls: list[float] = []
    monkeypatch.setattr(deliveries, "drain_soon", lambda: calls.append(time.monotonic()))
    requests = deliveries._DrainRequests()

    def calls_reach(count: int) -> bool:
        for _ in range(100):
            if len(calls) >= count:
                return True
            time.sleep(0.05)
        return False

    requests.delivered()
    assert calls_reach(1)  # the first after a quiet spell asks at once
    for _ in range(4):
        requests.delivered()
    # The next four, within the interval, are covered by one call at its end.
    assert calls_reach(2)
    assert calls[1] - calls[0] >= 0.2
    time.sleep(0.5)
    assert len(calls) == 2  # nothing was left to cover

    requests.delivered()  # after a quiet spell: at once again
    assert calls_reach(3)
    time.sleep(0.5)
    assert len(calls) == 3
