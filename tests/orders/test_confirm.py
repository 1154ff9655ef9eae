"""Confirming and approving POs: once only, numbered without gaps, four eyes above the limit."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from backoffice.models import AuditEvent
from orders import services
from orders.models import PurchaseOrder

from .helpers import upstream_orders

S = PurchaseOrder.Status


@pytest.mark.django_db
def test_second_confirm_is_a_no_op_with_a_message(sandbox, make_po, confirm, stock_skus):
    po = make_po([(stock_skus[0], 1)])
    first = confirm(po)
    key, external_id = po.idempotency_key, po.external_id

    again = confirm(po)

    assert first.changed and not again.changed
    assert "already confirmed" in again.message
    po.refresh_from_db()
    assert (po.idempotency_key, po.external_id) == (key, external_id)
    assert len(upstream_orders(sandbox, external_id)) == 1


@pytest.mark.django_db
def test_confirm_freezes_current_catalog_prices(sandbox, make_po, confirm, combos, stock_skus):
    po = make_po([(stock_skus[0], 2)])
    combination = combos[stock_skus[0]]
    combination.net_price = combination.net_price + Decimal("0.01")
    combination.save(update_fields=["net_price"])
    sandbox.set_price(stock_skus[0], net_price=combination.net_price)

    confirm(po)

    line = po.lines.get()
    assert line.unit_net_price == combination.net_price
    assert po.total == combination.net_price * 2


@pytest.mark.django_db
def test_external_ids_are_sequential(sandbox, make_po, confirm, stock_skus):
    numbers = []
    for sku in stock_skus[:3]:
        po = make_po([(sku, 1)])
        confirm(po)
        numbers.append(int(po.external_id.rsplit("-", 1)[1]))
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


@pytest.mark.django_db
def test_confirm_is_audited(sandbox, make_po, confirm, stock_skus, buyer):
    po = make_po([(stock_skus[0], 1)])
    confirm(po)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PO_CONFIRM)
    assert event.actor == buyer and event.target_id == str(po.pk)


@pytest.mark.django_db
def test_empty_draft_cannot_be_confirmed(make_po, buyer):
    po = make_po([])
    with pytest.raises(services.OrdersError):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    po.refresh_from_db()
    assert po.status == S.DRAFT and po.external_id is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_submit_once(sandbox, combos, buyer, monkeypatch):
    """Two tabs (two threads, two DB connections) confirm the same draft at once."""
    submitted: list[int] = []
    monkeypatch.setattr(
        "orders.tasks.purchase_order_submit.apply_async",
        lambda kwargs, **options: submitted.append(kwargs["po_id"]),
    )
    sku = next(s for s, c in sorted(combos.items()) if c.in_stock)
    po = services.purchase_order_create(user=buyer)
    services.purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=1)

    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def confirm_in_thread():
        try:
            barrier.wait()
            outcomes.append(services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(o.changed for o in outcomes) == [False, True]
    assert submitted == [po.pk]
    po.refresh_from_db()
    assert po.status == S.QUEUED
    assert po.events.filter(to_status=S.QUEUED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_po(sandbox, combos, buyer, monkeypatch):
    """A second worker finds the PO locked by the first and leaves it alone."""
    monkeypatch.setattr("orders.tasks.purchase_order_submit.apply_async", lambda **kw: None)
    sku = next(s for s, c in sorted(combos.items()) if c.in_stock)
    po = services.purchase_order_create(user=buyer)
    services.purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=1)
    services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    # Hold the second request inside upstream so both workers overlap in time.
    sandbox.faults.inject(method="POST", path="/api/orders", kind="latency", seconds=1.0)

    results = []

    def submit():
        try:
            results.append(services.purchase_order_submit(purchase_order_id=po.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["busy", S.DELIVERED]
    assert [r for r in sandbox.requests if r == ("POST", "/api/orders")] == [
        ("POST", "/api/orders")
    ]
    po.refresh_from_db()
    assert len(upstream_orders(sandbox, po.external_id)) == 1


@pytest.fixture
def big_po(make_po, combos, settings):
    settings.PO_APPROVAL_THRESHOLD = Decimal("10.00")
    sku = next(s for s, c in sorted(combos.items()) if c.in_stock and c.net_price > 10)
    return make_po([(sku, 1)])


@pytest.mark.django_db
def test_order_above_threshold_waits_for_approval(sandbox, big_po, confirm):
    confirm(big_po)
    assert big_po.status == S.AWAITING_APPROVAL
    assert upstream_orders(sandbox, big_po.external_id) == []


@pytest.mark.django_db
def test_creator_cannot_approve_but_another_approver_can(
    sandbox, big_po, confirm, buyer, user_in_role, django_capture_on_commit_callbacks
):
    confirm(big_po)
    with pytest.raises(services.FourEyesViolation):
        services.purchase_order_approve(purchase_order_id=big_po.pk, user=buyer)
    big_po.refresh_from_db()
    assert big_po.status == S.AWAITING_APPROVAL

    approver = user_in_role("Approver")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.purchase_order_approve(purchase_order_id=big_po.pk, user=approver)
    assert outcome.changed
    big_po.refresh_from_db()
    assert big_po.status == S.DELIVERED
    assert big_po.approved_by == approver
    assert len(upstream_orders(sandbox, big_po.external_id)) == 1


@pytest.mark.django_db
def test_confirmer_who_is_also_approver_cannot_approve(sandbox, big_po, user_in_role):
    both = user_in_role("Buyer", "Approver")
    services.purchase_order_confirm(purchase_order_id=big_po.pk, user=both)
    with pytest.raises(services.FourEyesViolation):
        services.purchase_order_approve(purchase_order_id=big_po.pk, user=both)


@pytest.mark.django_db
def test_rejected_order_is_cancelled_and_never_sent(sandbox, big_po, confirm, user_in_role):
    confirm(big_po)
    services.purchase_order_reject(
        purchase_order_id=big_po.pk, user=user_in_role("Approver"), reason="too dear"
    )
    big_po.refresh_from_db()
    assert big_po.status == S.CANCELLED
    assert upstream_orders(sandbox, big_po.external_id) == []


@pytest.mark.django_db
def test_approve_page_refuses_the_creator(sandbox, big_po, confirm, user_in_role, client):
    both = user_in_role("Buyer", "Approver")
    big_po.created_by = both
    big_po.save(update_fields=["created_by"])
    confirm(big_po)
    client.force_login(both)
    response = client.post(f"/orders/{big_po.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert "cannot approve" in response.content.decode()
    big_po.refresh_from_db()
    assert big_po.status == S.AWAITING_APPROVAL
