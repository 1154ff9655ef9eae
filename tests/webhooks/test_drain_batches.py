"""The drain applies a batch of events together: bounded queries, exactly once, a failing
event recorded on its own row, and a crashed drain's error written on its events."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import services as order_services
from orders.models import LicenceKey, PurchaseOrder, PurchaseOrderEvent
from webhooks import services, tasks
from webhooks.models import WebhookEvent
from webhooks.services import deliveries

from .factories import event_body
from .test_drain import (
    SKU,
    in_threads,
    key_assigned,
    purchase_order_delivering,
    store_without_draining,
)


def order_delivered(po: PurchaseOrder, keys: list[str]) -> bytes:
    return event_body(
        "order.delivered",
        {
            "orderId": po.upstream_id,
            "externalId": po.external_id,
            "keys": [{"sku": SKU, "name": "Drain", "key": key} for key in keys],
        },
    )


def backlog(pos: list[PurchaseOrder], events: int) -> list[str]:
    """`events` key.assigned events spread over `pos`, stored undrained; returns the keys."""
    keys = [f"BATCH-{n:04d}-{uuid.uuid4().hex[:8]}" for n in range(events)]
    for n, key in enumerate(keys):
        store_without_draining(key_assigned(pos[n % len(pos)], key))
    return keys


def drain_queries(pos: int, events: int) -> int:
    orders = [purchase_order_delivering(n) for n in range(pos)]
    for po in orders:  # already receiving keys: the batch changes no PO's status
        PurchaseOrder.objects.filter(pk=po.pk).update(
            status=PurchaseOrder.Status.PARTIALLY_DELIVERED
        )
    backlog(orders, events)
    with CaptureQueriesContext(connection) as queries:
        counts = services.webhook_events_drain(batch=events)
    assert counts == {"applied": events, "processed": events}
    return len(queries)


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_for_three_times_the_events_and_orders():
    small = drain_queries(pos=4, events=20)
    WebhookEvent.objects.all().delete()
    large = drain_queries(pos=12, events=60)

    # One statement per step for the whole batch (savepoints included), none per event.
    assert large == small
    assert large < 60 // 2
    assert LicenceKey.objects.filter(order_sku=SKU).count() == 80


@pytest.mark.django_db
def test_a_batch_sums_each_orders_keys_in_one_timeline_entry():
    po = purchase_order_delivering(0)
    store_without_draining(key_assigned(po, "BATCH-SUM-1"))
    store_without_draining(order_delivered(po, ["BATCH-SUM-2", "BATCH-SUM-3"]))

    services.webhook_events_drain()

    events = dict(WebhookEvent.objects.values_list("type", "keys_stored"))
    assert events == {"key.assigned": 1, "order.delivered": 2}
    assert set(WebhookEvent.objects.values_list("purchase_order", flat=True)) == {po.pk}
    messages = list(
        PurchaseOrderEvent.objects.filter(purchase_order=po).values_list("message", flat=True)
    )
    assert messages.count("3 key(s) received by webhook") == 1
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.PARTIALLY_DELIVERED


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_over_the_same_orders_apply_each_event_and_store_each_key_once(
    monkeypatch,
):
    pos = [purchase_order_delivering(n) for n in range(4)]
    keys = backlog(pos, 40)
    # Every key a second time in an order.delivered event: the same keys reach the same
    # purchase orders through both drains.
    for n, po in enumerate(pos):
        store_without_draining(order_delivered(po, keys[n :: len(pos)]))

    # Both drains take their first batch (disjoint rows: SKIP LOCKED) before either
    # stores a key, so their key storage really runs at the same time on the same POs.
    both_claimed = threading.Barrier(2)
    waited = threading.local()
    original = deliveries._deliver

    def deliver_together(ready):
        if not getattr(waited, "done", False):
            waited.done = True
            both_claimed.wait(timeout=20)
        return original(ready)

    monkeypatch.setattr(deliveries, "_deliver", deliver_together)
    results = in_threads(lambda: services.webhook_events_drain(batch=11), 2)

    # Each drain took a batch of its own (helpers they queued may have taken the rest).
    assert [result["applied"] >= 11 for result in results] == [True, True]  # type: ignore[index]
    events = WebhookEvent.objects.all()
    assert set(events.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert set(events.values_list("attempts", flat=True)) == {1}
    assert LicenceKey.objects.filter(order_sku=SKU).count() == 40
    assert sorted(LicenceKey.objects.values_list("key_hash", flat=True).distinct()) == sorted(
        LicenceKey.objects.values_list("key_hash", flat=True)
    )
    assert sum(events.values_list("keys_stored", flat=True)) == 40
    assert {po.pk: po.keys.count() for po in pos} == {po.pk: 10 for po in pos}


@pytest.mark.django_db
def test_an_event_whose_keys_break_the_batch_fails_alone_and_the_others_apply(monkeypatch):
    good = [purchase_order_delivering(n) for n in range(3)]
    bad = purchase_order_delivering(9)
    ok_pks = [store_without_draining(key_assigned(po, f"BATCH-OK-{po.pk}")) for po in good]
    clear_key = f"BATCH-SECRET-{uuid.uuid4().hex}"
    bad_pk = store_without_draining(key_assigned(bad, clear_key))
    original = order_services.keys_deliver_many
    calls: list[int] = []

    def break_on_the_bad_order(*, deliveries, source):
        calls.append(len(deliveries))
        for delivery in deliveries:
            if delivery.upstream_order_id == bad.upstream_id:
                raise RuntimeError(f"cannot store {delivery.keys[0].key}")
        return original(deliveries=deliveries, source=source)

    monkeypatch.setattr(order_services, "keys_deliver_many", break_on_the_bad_order)
    counts = services.webhook_events_drain()

    assert calls == [4, 1, 1, 1, 1]  # the batch, then each event on its own
    assert counts == {"applied": 4, "processed": 3, "failed": 1}
    failed = WebhookEvent.objects.get(pk=bad_pk)
    assert failed.status == WebhookEvent.Status.FAILED and failed.attempts == 1
    assert "RuntimeError: cannot store" in failed.error
    assert clear_key not in failed.error + failed.traceback
    assert set(WebhookEvent.objects.filter(pk__in=ok_pks).values_list("status", "attempts")) == {
        ("processed", 1)
    }
    assert LicenceKey.objects.filter(purchase_order__in=good).count() == 3
    assert not LicenceKey.objects.filter(purchase_order=bad).exists()


class Killed(BaseException):
    """Stands for the worker process dying: nothing in the drain catches it."""


@pytest.mark.django_db(transaction=True)
def test_a_drain_killed_mid_batch_leaves_nothing_half_done_and_the_next_applies_once(
    monkeypatch,
):
    pos = [purchase_order_delivering(n) for n in range(3)]
    keys = backlog(pos, 12)
    original = deliveries._outcomes_set

    def killed_after_storing_keys(ready, outcomes):
        raise Killed

    monkeypatch.setattr(deliveries, "_outcomes_set", killed_after_storing_keys)
    with pytest.raises(Killed):
        services.webhook_events_drain()
    # The batch was one transaction: no key and no outcome survived the kill.
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("received", 0)}
    assert not LicenceKey.objects.exists()

    monkeypatch.setattr(deliveries, "_outcomes_set", original)
    assert services.webhook_events_drain() == {"applied": 12, "processed": 12}
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("processed", 1)}
    assert LicenceKey.objects.count() == len(set(keys)) == 12


@pytest.mark.django_db
def test_a_crashed_drain_task_writes_its_error_on_the_events_of_its_batch(
    monkeypatch, admin_client
):
    po = purchase_order_delivering(0)
    taken = [store_without_draining(key_assigned(po, f"BATCH-CRASH-{n}")) for n in range(3)]

    def crash(events):
        raise RuntimeError("statement timeout while applying the batch")

    monkeypatch.setattr(deliveries, "_apply", crash)
    with pytest.raises(RuntimeError):
        tasks.webhook_events_drain.apply()

    expected = (
        "The drain task failed: RuntimeError: statement timeout while applying the batch. "
        "It is tried again automatically."
    )
    for event in WebhookEvent.objects.filter(pk__in=taken):
        assert (event.status, event.attempts, event.error) == ("received", 0, expected)
    page = admin_client.get(WebhookEvent.objects.get(pk=taken[0]).get_absolute_url())
    assert page.status_code == 200
    assert b"The drain task failed: RuntimeError: statement timeout" in page.content

    monkeypatch.undo()
    services.webhook_events_drain()  # the next drain applies them and clears the error
    assert set(WebhookEvent.objects.values_list("status", "error")) == {("processed", "")}


@pytest.mark.django_db
def test_a_drain_that_crashes_before_taking_a_batch_writes_on_the_events_it_would_take(
    monkeypatch,
):
    po = purchase_order_delivering(0)
    first = [store_without_draining(key_assigned(po, f"BATCH-EARLY-{n}")) for n in range(3)]
    later = store_without_draining(key_assigned(po, "BATCH-EARLY-LATER"))

    def crash(*, limit, claimed):
        raise RuntimeError("broker connection lost")

    monkeypatch.setattr(deliveries, "_drain_batch", crash)
    with pytest.raises(RuntimeError):
        services.webhook_events_drain(batch=3)

    errors = dict(WebhookEvent.objects.values_list("pk", "error"))
    assert all(errors[pk].startswith("The drain task failed: RuntimeError") for pk in first)
    assert errors[later] == ""  # beyond the batch the drain would have taken
