"""Orders that always converge: no PO stuck, every key on the right line, one debit.

Races between two threads run against real PostgreSQL row locks (transactional tests);
upstream is the in-process sandbox, shaped with its fault hooks.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

import licendi
from backoffice import crypto
from backoffice.models import AuditEvent
from orders import services, tasks
from orders.models import LicenceKey, PurchaseOrder, UnexpectedKey

from .helpers import order_debits, upstream_orders

S = PurchaseOrder.Status


def _confirm_without_sending(po, user, capture):
    with capture(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=user)
    po.refresh_from_db()
    return po


def _lose_the_answer(sandbox, po):
    """Licendi places and charges the order; the answer never comes back."""
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == S.UNKNOWN and po.upstream_id is None
    [order] = upstream_orders(sandbox, po.external_id)
    return order


def _upstream_keys(order):
    return [
        licendi.DeliveredKey(sku=item["sku"], key=key, name=item["name"])
        for item in order["items"]
        for key in item["keys"]
    ]


# ----------------------------------------------------------------- import vs a slow retry


@pytest.mark.django_db(transaction=True)
def test_import_during_a_slow_retry_waits_and_leaves_one_delivered_po(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    # Committed for real here: keep the submission task from running at confirmation.
    monkeypatch.setattr("orders.tasks.purchase_order_submit.apply_async", lambda **kw: None)
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 2)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)
    # The retry's lookup is slow: it holds the PO's row lock while it waits upstream.
    sandbox.faults.inject(method="GET", path="/api/orders", kind="latency", seconds=1.5)
    results: dict[str, object] = {}

    def retry() -> None:
        try:
            results["retry"] = services.purchase_order_submit(purchase_order_id=po.pk).status
        except Exception as exc:  # recorded for the assertion below
            results["retry"] = exc
        finally:
            connection.close()

    def import_orders() -> None:
        try:
            results["import"] = services.purchase_orders_import().as_counts()
        except Exception as exc:
            results["import"] = exc
        finally:
            connection.close()

    retrying = threading.Thread(target=retry)
    retrying.start()
    time.sleep(0.3)  # the retry holds the lock and waits on its slow lookup
    importing = threading.Thread(target=import_orders)
    importing.start()
    retrying.join(30)
    importing.join(30)

    assert results["retry"] == S.DELIVERED
    assert isinstance(results["import"], dict) and results["import"]["imported"] == 0
    assert PurchaseOrder.objects.filter(upstream_id=order["id"]).count() == 1
    assert not PurchaseOrder.objects.filter(source=PurchaseOrder.Source.IMPORTED).exists()
    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    assert po.keys.count() == 2
    assert len(order_debits(sandbox, order["id"])) == 1


@pytest.mark.django_db
def test_import_records_our_order_on_our_po_when_its_answer_was_lost(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)

    report = services.purchase_orders_import()

    po.refresh_from_db()
    assert (report.imported, report.adopted) == (0, 1)
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    assert po.invoice_number == order["invoice"]["number"]
    assert not PurchaseOrder.objects.filter(source=PurchaseOrder.Source.IMPORTED).exists()


@pytest.mark.django_db
def test_submission_adopts_an_upstream_order_already_imported_as_foreign(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    """What the race left behind before imports waited: a second, imported PO holding
    our upstream order and our keys. The retry adopts it instead of dying."""
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 2)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)
    duplicate = PurchaseOrder.objects.create(
        source=PurchaseOrder.Source.IMPORTED,
        status=S.DELIVERED,
        upstream_id=order["id"],
        total=po.total,
    )
    for delivered in _upstream_keys(order):
        LicenceKey.objects.create(
            purchase_order=duplicate,
            order_sku=delivered.sku,
            **crypto.key_columns(delivered.key),
            source=LicenceKey.Source.IMPORT,
        )

    result = services.purchase_order_submit(purchase_order_id=po.pk)

    po.refresh_from_db()
    duplicate.refresh_from_db()
    assert result.status == S.DELIVERED
    assert po.upstream_id == order["id"] and po.keys.count() == 2
    assert set(po.keys.values_list("line__order_sku", flat=True)) == {stock_skus[0]}
    assert duplicate.upstream_id is None and duplicate.status == S.CANCELLED
    assert not duplicate.keys.exists()
    assert len(order_debits(sandbox, order["id"])) == 1


# ----------------------------------------------------------------- loops isolate each PO


@pytest.mark.django_db
def test_poll_pass_survives_a_failing_po_and_records_the_failure_on_it(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    broken = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    healthy = _confirm_without_sending(
        make_po([(stock_skus[1], 1)]), buyer, django_capture_on_commit_callbacks
    )
    _lose_the_answer(sandbox, broken)
    _lose_the_answer(sandbox, healthy)
    real_submit = services.sweeps.purchase_order_submit

    def submit(*, purchase_order_id, actor_label):
        if purchase_order_id == broken.pk:
            raise RuntimeError("row in a state nobody foresaw")
        return real_submit(purchase_order_id=purchase_order_id, actor_label=actor_label)

    monkeypatch.setattr(services.sweeps, "purchase_order_submit", submit)

    counts = tasks.purchase_orders_poll_pending.delay().get()
    tasks.purchase_orders_poll_pending.delay().get()  # the same failure is written once

    healthy.refresh_from_db()
    broken.refresh_from_db()
    assert counts["errors"] == 1 and counts["resolved"] == 1
    assert healthy.status == S.DELIVERED
    assert broken.status == S.UNKNOWN
    failures = broken.events.filter(message__contains="row in a state nobody foresaw")
    assert failures.count() == 1


@pytest.mark.django_db
def test_import_skips_and_reports_an_unreadable_listed_order(sandbox, monkeypatch):
    # An order placed outside the back-office (the supplier's dashboard, say).
    sku = sandbox.product_skus()[0]
    detail = sandbox.catalog.get(sku).to_detail()
    order_sku = (detail["combinations"] or [{"orderSku": sku}])[0]["orderSku"]
    with licendi.LicendiClient(
        "http://sandbox.test", "sandbox-test-key", transport=sandbox.transport()
    ) as client:
        placed = client.create_order(
            items=[licendi.OrderLineRequest(sku=order_sku, qty=1)],
            external_id="SHOP-1",
            idempotency_key="outside-1",
        )
    real_listing = licendi.parsing.parse_order_listing

    def with_a_broken_order(payload):
        items = [*payload["items"], {"externalId": "NO-ID", "status": "delivered"}]
        return real_listing({**payload, "items": items})

    monkeypatch.setattr(licendi.parsing, "parse_order_listing", with_a_broken_order)

    report = services.purchase_orders_import()

    assert report.imported == 1 and len(report.skipped) == 1
    assert "id" in report.skipped[0]
    assert PurchaseOrder.objects.filter(upstream_id=placed.order.id).exists()


# ----------------------------------------------------------------- keys counted per line


@pytest.mark.django_db
def test_keys_for_a_sku_the_po_never_ordered_are_kept_aside_and_never_deliver_it(
    sandbox, make_po, confirm, backorder_sku, stock_skus
):
    po = make_po([(backorder_sku, 2)])
    confirm(po)
    assert po.status == S.PENDING_DELIVERY
    wrong = [
        licendi.DeliveredKey(sku=stock_skus[5], key="WRONG-SKU-KEY-0001"),
        licendi.DeliveredKey(sku="<script>alert(1)</script>", key="WRONG-SKU-KEY-0002"),
    ]

    added = services.keys_deliver(
        upstream_order_id=po.upstream_id, external_id=po.external_id, keys=wrong, source="webhook"
    )

    po.refresh_from_db()
    assert added == 0
    assert po.status == S.PENDING_DELIVERY  # still polled, still awaited
    assert po.keys.count() == 0
    aside = list(po.unexpected_keys.order_by("pk"))
    assert [k.reason for k in aside] == [UnexpectedKey.Reason.UNKNOWN_SKU] * 2
    assert all(k.decision == UnexpectedKey.Decision.PENDING for k in aside)
    assert crypto.decrypt(aside[0].key_encrypted) == "WRONG-SKU-KEY-0001"
    assert "WRONG-SKU-KEY-0001" not in aside[0].key_masked
    from orders.selectors import unexpected_keys_pending_count

    assert unexpected_keys_pending_count() == 2


@pytest.mark.django_db
def test_more_keys_than_ordered_fill_the_line_and_the_rest_waits_for_a_decision(
    sandbox, make_po, confirm, backorder_sku, client_for
):
    po = make_po([(backorder_sku, 2)])
    confirm(po)
    flood = [licendi.DeliveredKey(sku=backorder_sku, key=f"FLOOD-{n:04d}") for n in range(20)]

    added = services.keys_deliver(
        upstream_order_id=po.upstream_id, external_id=None, keys=flood, source="webhook"
    )
    again = services.keys_deliver(  # redelivered: nothing new anywhere
        upstream_order_id=po.upstream_id, external_id=None, keys=flood, source="polling"
    )

    po.refresh_from_db()
    assert (added, again) == (2, 0)
    assert po.status == S.DELIVERED and po.keys.count() == 2
    assert po.unexpected_keys.count() == 18
    assert set(po.unexpected_keys.values_list("reason", flat=True)) == {"over_delivered"}
    page = client_for("Approver").get(po.get_absolute_url())
    assert page.status_code == 200
    assert b"po-unexpected-keys" in page.content
    assert b"FLOOD-0019" not in page.content  # shown masked only


@pytest.mark.django_db
def test_keys_differing_only_in_case_are_two_keys(sandbox, make_po, confirm, backorder_sku):
    po = make_po([(backorder_sku, 2)])
    confirm(po)
    keys = [
        licendi.DeliveredKey(sku=backorder_sku, key="abcde-12345"),
        licendi.DeliveredKey(sku=backorder_sku, key=" ABCDE-12345 "),
    ]
    added = services.keys_deliver(
        upstream_order_id=po.upstream_id, external_id=None, keys=keys, source="webhook"
    )
    assert added == 2
    assert {crypto.decrypt(k.key_encrypted) for k in po.keys.all()} == {
        "abcde-12345",
        "ABCDE-12345",
    }


@pytest.mark.django_db
def test_unexpected_key_decision_is_audited_and_final(
    sandbox, make_po, confirm, backorder_sku, user_in_role
):
    po = make_po([(backorder_sku, 1)])
    confirm(po)
    services.keys_deliver(
        upstream_order_id=po.upstream_id,
        external_id=None,
        keys=[licendi.DeliveredKey(sku="OTHER", key="K-1")],
        source="webhook",
    )
    key = po.unexpected_keys.get()
    approver = user_in_role("Approver")
    services.unexpected_key_decide(unexpected_key_id=key.pk, decision="dismissed", user=approver)
    services.unexpected_key_decide(unexpected_key_id=key.pk, decision="kept", user=approver)
    key.refresh_from_db()
    assert key.decision == "dismissed" and key.decided_by == approver
    assert AuditEvent.objects.filter(action="unexpected_key_decision").count() == 1


# ----------------------------------------------------------------- lost answer, completed elsewhere


@pytest.mark.django_db
def test_po_completed_by_webhook_after_a_lost_answer_records_invoice_total_and_prices(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1), (stock_skus[1], 2)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)

    # The webhook names our externalId; the details are re-read from Licendi on commit.
    with django_capture_on_commit_callbacks(execute=True):
        services.keys_deliver(
            upstream_order_id=order["id"],
            external_id=po.external_id,
            keys=_upstream_keys(order),
            source="webhook",
        )

    po.refresh_from_db()
    assert po.status == S.DELIVERED and po.keys.count() == 3
    assert po.upstream_id == order["id"]
    assert po.invoice_number == order["invoice"]["number"]
    assert str(po.upstream_total) == str(order["total"])
    assert not po.lines.filter(upstream_unit_price__isnull=True).exists()
    assert len(order_debits(sandbox, order["id"])) == 1
    from wallet.selectors import purchase_orders_missing_details

    assert not purchase_orders_missing_details().filter(pk=po.pk).exists()


@pytest.mark.django_db
def test_reconciliation_lists_a_delivered_po_missing_its_invoice_until_polling_reads_it(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)
    sandbox.faults.inject(method="GET", path="/api/orders/*", kind="status", status=503)
    with django_capture_on_commit_callbacks(execute=True):  # the re-read fails once
        services.keys_deliver(
            upstream_order_id=order["id"],
            external_id=po.external_id,
            keys=_upstream_keys(order),
            source="webhook",
        )
    from wallet.selectors import purchase_orders_missing_details

    assert list(purchase_orders_missing_details()) == [po]

    tasks.purchase_orders_poll_pending.delay()

    po.refresh_from_db()
    assert po.invoice_number == order["invoice"]["number"]
    assert list(purchase_orders_missing_details()) == []


# ----------------------------------------------------------------- staff resolutions


@pytest.mark.django_db
def test_check_with_licendi_now_records_the_order_it_finds(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)

    outcome = services.purchase_order_check_upstream(purchase_order_id=po.pk, user=buyer)

    po.refresh_from_db()
    assert outcome.changed and order["id"] in outcome.message
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    audit = AuditEvent.objects.get(action="po_check_upstream")
    assert audit.actor == buyer and audit.details["found"] == order["id"]


@pytest.mark.django_db
def test_mark_as_not_placed_needs_a_second_person_and_licendi_without_the_order(
    sandbox, make_po, stock_skus, buyer, user_in_role, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    # Never processed upstream: the request timed out before Licendi saw it.
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    balance = sandbox.balance

    checked = services.purchase_order_check_upstream(purchase_order_id=po.pk, user=buyer)
    assert not checked.changed and "no order" in checked.message
    services.purchase_order_not_placed_request(purchase_order_id=po.pk, user=buyer)
    with pytest.raises(services.FourEyesViolation):
        services.purchase_order_not_placed_approve(purchase_order_id=po.pk, user=buyer)
    approver = user_in_role("Approver")
    outcome = services.purchase_order_not_placed_approve(purchase_order_id=po.pk, user=approver)

    po.refresh_from_db()
    assert outcome.changed
    assert po.status == S.FAILED and po.failure_code == "not_placed"
    assert upstream_orders(sandbox, po.external_id) == []
    assert sandbox.balance == balance
    actions = list(
        AuditEvent.objects.filter(target_id=str(po.pk))
        .order_by("pk")
        .values_list("action", "actor__username")
    )
    assert actions[-3:] == [
        ("po_check_upstream", buyer.username),
        ("po_not_placed_request", buyer.username),
        ("po_not_placed", approver.username),
    ]
    # A late retry of the lost task changes nothing.
    assert services.purchase_order_submit(purchase_order_id=po.pk).status == S.FAILED


@pytest.mark.django_db
def test_not_placed_approval_records_the_order_when_licendi_has_it_after_all(
    sandbox, make_po, stock_skus, buyer, user_in_role, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    order = _lose_the_answer(sandbox, po)
    services.purchase_order_not_placed_request(purchase_order_id=po.pk, user=buyer)

    outcome = services.purchase_order_not_placed_approve(
        purchase_order_id=po.pk, user=user_in_role("Approver")
    )

    po.refresh_from_db()
    assert not outcome.changed
    assert po.status == S.DELIVERED and po.upstream_id == order["id"]
    assert len(order_debits(sandbox, order["id"])) == 1


@pytest.mark.django_db
def test_staff_resolution_pages_answer_with_a_message(
    sandbox, make_po, stock_skus, buyer, client_for, django_capture_on_commit_callbacks
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    _lose_the_answer(sandbox, po)
    client = client_for("Buyer")
    page = client.get(po.get_absolute_url())
    assert b"check-upstream" in page.content and b"not-placed-request" in page.content

    response = client.post(f"/orders/{po.pk}/check/", follow=True)

    assert response.status_code == 200
    assert b"Licendi has it" in response.content


@pytest.mark.django_db
def test_recovery_sweep_sends_a_po_a_dead_worker_left_submitting(
    sandbox, make_po, stock_skus, buyer, django_capture_on_commit_callbacks, settings
):
    po = _confirm_without_sending(
        make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks
    )
    # The worker committed "submitting", sent the order, and died before storing it.
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    PurchaseOrder.objects.filter(pk=po.pk).update(
        status=S.SUBMITTING,
        updated_at=timezone.now() - timedelta(seconds=settings.ORDER_RECOVERY_AFTER_SECONDS + 1),
    )

    counts = tasks.purchase_orders_recover.delay().get()

    po.refresh_from_db()
    assert counts["resolved"] == 1
    assert po.status == S.DELIVERED
    assert len(order_debits(sandbox, po.upstream_id)) == 1


@pytest.mark.django_db
def test_a_task_failing_on_a_transient_database_error_is_retried(monkeypatch):
    from django.db import InterfaceError, OperationalError

    failures = [OperationalError("server closed the connection"), InterfaceError("closed")]
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if failures:
            raise failures.pop(0)
        return services.SweepReport()

    monkeypatch.setattr(services, "purchase_orders_recover", flaky)
    # Run the retries in-process (eagerly) instead of raising the first failure.
    conf = tasks.purchase_orders_recover.app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    try:
        result = tasks.purchase_orders_recover.apply()
    finally:
        conf.task_eager_propagates = propagates

    assert result.successful()
    assert len(calls) == 3
    assert result.get()["errors"] == 0
