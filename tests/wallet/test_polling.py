"""Adaptive polling: read again soon when the last read may have missed entries."""

import pytest

from wallet import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.wallet_sync, "apply_async", lambda **kwargs: calls.append(kwargs))
    return calls


def test_a_full_window_of_new_entries_queues_another_read_soon(sandbox, sync, queued, settings):
    sync()
    sku = sandbox.order_skus()[0]
    for _ in range(25):
        sandbox.place_order(items=[(sku, 1)])
    tasks.wallet_sync.run()
    assert len(queued) == 1
    countdown = queued[0]["countdown"]
    assert 1 <= countdown <= 30
    assert countdown < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def test_a_read_with_room_to_spare_queues_nothing(sandbox, sync, queued):
    sync()
    sku = sandbox.order_skus()[0]
    for _ in range(5):
        sandbox.place_order(items=[(sku, 1)])
    tasks.wallet_sync.run()
    assert queued == []


def test_many_orders_queue_only_one_follow_up_read(sandbox, queued):
    for _ in range(10):
        tasks.wallet_sync_soon(reason="order placed")
    assert len(queued) == 1
