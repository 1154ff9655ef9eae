"""A worker killed with SIGKILL costs at most two minutes, and never a second debit.

A real Celery worker (prefork, Redis broker, acks_late) runs against the test database
and a sandbox served on a port. It is killed (SIGKILL to its whole process group: main
process and pool child) while it is inside a submission, and while it is inside a
webhook event's processing, then started again. The PO must end delivered and the event
processed well within two minutes of the kill, with one upstream order and one debit.

The broker's visibility timeout is the recovery bound: the suite runs it at
KILL_TEST_VISIBILITY_TIMEOUT seconds (default 15, to stay quick); production uses
CELERY_VISIBILITY_TIMEOUT_SECONDS (60). docs/orders.md gives the figures for both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from werkzeug.serving import make_server

from backoffice.celery import app
from orders import services
from orders.models import LicenceKey, PurchaseOrder
from webhooks import payloads
from webhooks.models import WebhookEvent
from webhooks.receiver import Delivery
from webhooks.services import webhook_event_record

from .helpers import order_debits, upstream_orders

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("worker_kill"),
]
S = PurchaseOrder.Status
ROOT = Path(__file__).resolve().parents[2]
VISIBILITY = int(os.environ.get("KILL_TEST_VISIBILITY_TIMEOUT", "15"))
RECOVERY_BOUND = 120.0  # seconds: what the issue allows a crash to cost
TEST_BOUND = VISIBILITY + 60.0  # far below RECOVERY_BOUND; keeps the suite bounded


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll until `condition` holds; returns when (monotonic). Fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


class Worker:
    """One `celery worker` process in a session of its own (so SIGKILL reaches all)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.write_text("")
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backoffice",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"kill-test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        wait_for(lambda: b"ready." in self.log.read_bytes(), timeout=60, what="the worker")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None


@pytest.fixture
def served_sandbox(sandbox) -> Iterator[str]:
    """The test's sandbox on a loopback port, for the worker process to call."""
    server = make_server("127.0.0.1", 0, sandbox.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def worker(served_sandbox, tmp_path) -> Iterator[Worker]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.orders.kill_worker_settings",
        "KILL_TEST_DB_NAME": connection.settings_dict["NAME"],
        "KILL_TEST_FIELD_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "KILL_TEST_LICENDI_URL": served_sandbox,
        "KILL_TEST_BROKER_URL": settings.CELERY_BROKER_URL,
        "KILL_TEST_VISIBILITY_TIMEOUT": str(VISIBILITY),
    }
    running = Worker(env, tmp_path / "worker.log")
    # Tasks queued by this test go to the broker, for the worker.
    app.conf.task_always_eager = False
    try:
        running.start()
        yield running
    finally:
        running.kill()
        app.conf.task_always_eager = True
        connections.close_all()


def _status(po: PurchaseOrder) -> str:
    po.refresh_from_db()
    return po.status


def test_worker_killed_during_submission_and_webhook_processing_recovers_within_bound(
    sandbox, worker, make_po, stock_skus, backorder_sku, buyer, capsys
):
    figures: dict[str, float] = {}

    # --- 1. killed inside the call that places the order ---------------------------
    po = make_po([(next(sku for sku in stock_skus if sku != backorder_sku), 2)])
    # Upstream takes its time inside the order (after the Idempotency-Key is claimed).
    sandbox.faults.inject(
        method="POST", path="/api/orders", kind="latency", seconds=4.0, when="during"
    )
    services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)  # queued on commit
    wait_for(lambda: ("POST", "/api/orders") in sandbox.requests, timeout=60, what="the order call")
    time.sleep(0.5)
    worker.kill()
    killed_at = time.monotonic()
    assert _status(po) == S.SUBMITTING
    worker.start()
    done_at = wait_for(
        lambda: _status(po) == S.DELIVERED, timeout=TEST_BOUND, what="the PO to be delivered"
    )
    figures["submission"] = done_at - killed_at
    [order] = upstream_orders(sandbox, po.external_id)
    assert po.upstream_id == order["id"] and po.keys.count() == 2
    assert len(order_debits(sandbox, order["id"])) == 1

    # --- 2. killed inside a webhook event's processing --------------------------------
    later = make_po([(backorder_sku, 1)])
    services.purchase_order_confirm(purchase_order_id=later.pk, user=buyer)
    wait_for(lambda: _status(later) == S.PENDING_DELIVERY, timeout=60, what="the backorder PO")
    sandbox.release_pending(later.upstream_id)
    released = sandbox.orders[later.upstream_id]
    key = released["items"][0]["keys"][0]
    body = {
        "id": "evt_kill_test",
        "type": "key.assigned",
        "data": {
            "orderId": later.upstream_id,
            "externalId": later.external_id,
            "sku": backorder_sku,
            "key": key,
        },
    }
    stored_payload, key_count = payloads.encrypt_payload(body)
    # Hold the PO row from here so the worker blocks inside the event's transaction.
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("SELECT id FROM orders_purchaseorder WHERE id = %s FOR UPDATE", [later.pk])
    webhook_event_record(
        delivery=Delivery(
            event_id="evt_kill_test",
            type="key.assigned",
            occurred_at=None,
            upstream_order_id=later.upstream_id,
            external_id=later.external_id,
            payload=stored_payload,
            key_count=key_count,
        )
    )

    def worker_waits_on_the_row() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    wait_for(worker_waits_on_the_row, timeout=60, what="the worker inside the event")
    worker.kill()
    killed_at = time.monotonic()
    holder.rollback()
    holder.close()
    event = WebhookEvent.objects.get(event_id="evt_kill_test")
    assert event.status == WebhookEvent.Status.RECEIVED  # its transaction died with it
    worker.start()
    done_at = wait_for(
        lambda: WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.PROCESSED,
        timeout=TEST_BOUND,
        what="the event to be processed",
    )
    figures["webhook"] = done_at - killed_at
    assert _status(later) == S.DELIVERED
    assert LicenceKey.objects.filter(purchase_order=later).count() == 1
    assert len(order_debits(sandbox, later.upstream_id)) == 1

    assert max(figures.values()) < RECOVERY_BOUND
    with capsys.disabled():
        print(
            f"\nkill test (visibility timeout {VISIBILITY}s): PO delivered "
            f"{figures['submission']:.1f}s after the kill, event processed "
            f"{figures['webhook']:.1f}s after the kill"
        )
