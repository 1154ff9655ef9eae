"""Submitting a confirmed PO: one upstream order and one debit, whatever goes wrong."""

from decimal import Decimal

import pytest
from celery.exceptions import Retry

from orders import services, tasks
from orders.models import PurchaseOrder
from orders.services import SubmissionOutcomeUnknown, submission

from .helpers import order_debits, upstream_orders

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


def test_confirmed_order_is_delivered_with_keys_for_its_customer(
    sandbox, make_po, confirm, stock_skus, customer
):
    balance_before = sandbox.balance
    po = make_po([(stock_skus[0], 2), (stock_skus[1], 1)], customer=customer)

    confirm(po)

    assert po.status == S.DELIVERED
    assert po.upstream_id and po.invoice_number.startswith("INV-")
    assert po.external_id.startswith("PO-") and po.idempotency_key is not None
    assert po.keys.count() == 3
    assert set(po.keys.values_list("customer", flat=True)) == {customer.pk}
    assert set(po.keys.values_list("source", flat=True)) == {"response"}
    assert len(upstream_orders(sandbox, po.external_id)) == 1
    assert sandbox.balance == balance_before - po.upstream_total
    assert po.upstream_total == po.total
    statuses = list(po.events.values_list("to_status", flat=True))
    assert statuses == ["draft", "queued", "submitting", "submitting", "delivered"]


def test_timeout_after_sending_then_task_run_again_gives_one_order_and_one_debit(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    # Upstream processes the order, the answer is lost on the way back.
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == S.UNKNOWN
    assert po.upstream_id is None
    assert len(upstream_orders(sandbox, po.external_id)) == 1

    assert tasks.purchase_order_submit.delay(po.pk).get() == S.DELIVERED
    tasks.purchase_order_submit.delay(po.pk)  # a redelivered task changes nothing

    po.refresh_from_db()
    assert po.status == S.DELIVERED
    [order] = upstream_orders(sandbox, po.external_id)
    assert po.upstream_id == order["id"]
    assert len(order_debits(sandbox, order["id"])) == 1
    assert po.keys.count() == 1


def test_worker_killed_between_sending_and_storing_resends_the_same_key(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    po = make_po([(stock_skus[0], 2)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)

    class WorkerKilled(BaseException):
        pass

    real_record = submission.upstream_order_record

    def die(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(submission, "upstream_order_record", die)
    with pytest.raises(WorkerKilled):
        services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    # "submitting" was committed before the call; the storing transaction rolled back.
    assert po.status == S.SUBMITTING and po.upstream_id is None
    monkeypatch.setattr(submission, "upstream_order_record", real_record)

    # Found by externalId: not even a second POST is needed.
    requests_before = list(sandbox.requests)
    tasks.purchase_order_submit.delay(po.pk)
    po.refresh_from_db()
    assert po.status == S.DELIVERED
    assert len(upstream_orders(sandbox, po.external_id)) == 1
    assert len(order_debits(sandbox, po.upstream_id)) == 1
    assert ("POST", "/api/orders") not in sandbox.requests[len(requests_before) :]


def test_replay_with_stored_key_when_lookup_misses(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    # Even when the lookup cannot see the order, the stored Idempotency-Key replays it.
    monkeypatch.setattr(submission, "upstream_find_by_external_id", lambda client, ext: None)
    services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == S.DELIVERED
    assert len(upstream_orders(sandbox, po.external_id)) == 1
    assert len(order_debits(sandbox, po.upstream_id)) == 1


def run_task_until_settled(po, attempts=6):
    """What the worker does with retries: run the submission again until it settles."""
    for _ in range(attempts):
        try:
            tasks.purchase_order_submit.delay(po.pk)
        except Retry:
            continue
        break
    po.refresh_from_db()


@pytest.mark.parametrize("kind", ["status", "timeout", "timeout_after", "drop"])
def test_server_errors_then_retries_charge_once(sandbox, make_po, confirm, stock_skus, kind):
    balance_before = sandbox.balance
    po = make_po([(stock_skus[0], 1)])
    sandbox.faults.inject(method="POST", path="/api/orders", kind=kind, status=500, times=3)

    confirm(po)  # the task's retry is scheduled; a worker would run it later
    assert po.status == S.UNKNOWN
    run_task_until_settled(po)  # the stored key is sent again each time

    assert po.status == S.DELIVERED
    assert len(upstream_orders(sandbox, po.external_id)) == 1
    assert len(order_debits(sandbox)) == 1
    assert sandbox.balance == balance_before - po.total
    assert po.events.filter(to_status=S.UNKNOWN).exists()


def test_rate_limited_then_accepted_charges_once(sandbox, make_po, confirm, stock_skus):
    po = make_po([(stock_skus[0], 1)])
    sandbox.faults.inject(method="POST", path="/api/orders", kind="status", status=429, times=2)
    confirm(po)
    assert po.status == S.UNKNOWN
    run_task_until_settled(po)
    assert po.status == S.DELIVERED
    assert po.status == S.DELIVERED
    assert len(order_debits(sandbox)) == 1


def test_insufficient_balance_fails_with_reason_and_charges_nothing(
    sandbox, make_po, confirm, stock_skus, settings
):
    settings.PO_APPROVAL_THRESHOLD = Decimal("1000000")
    sandbox.adjust(-(sandbox.balance - Decimal("1.00")))
    balance_before = sandbox.balance
    po = make_po([(stock_skus[0], 3)])

    confirm(po)

    assert po.status == S.FAILED
    assert po.failure_code == "insufficient_balance"
    assert "exceeds the wallet balance" in po.failure_message
    assert sandbox.balance == balance_before
    assert upstream_orders(sandbox, po.external_id) == []


def test_unknown_sku_refusal_fails_the_po_and_charges_nothing(
    sandbox, make_po, confirm, stock_skus
):
    balance_before = sandbox.balance
    po = make_po([(stock_skus[0], 1)])
    # Upstream refuses the body (422) as if the sku did not exist.
    sandbox.faults.inject(method="POST", path="/api/orders", kind="status", status=422)

    confirm(po)

    assert po.status == S.FAILED
    assert po.failure_code  # the upstream code is kept for staff
    assert sandbox.balance == balance_before
    assert upstream_orders(sandbox, po.external_id) == []


def test_every_outcome_queues_a_wallet_refresh(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    import wallet.tasks

    calls = []
    monkeypatch.setattr(wallet.tasks.wallet_sync, "apply_async", lambda *a, **k: calls.append(k))
    po = make_po([(stock_skus[0], 1)])
    with django_capture_on_commit_callbacks(execute=True):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    assert len(calls) == 1

    failing = make_po([(stock_skus[1], 1)])
    sandbox.faults.inject(method="POST", path="/api/orders", kind="status", status=402)
    with django_capture_on_commit_callbacks(execute=True):
        services.purchase_order_confirm(purchase_order_id=failing.pk, user=buyer)
    failing.refresh_from_db()
    assert failing.status == S.FAILED
    assert len(calls) == 2
