"""The rules between roles that matter most: four eyes on big orders, keys masked for
everyone who may not reveal them."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from backoffice import crypto
from backoffice.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

orders_models = pytest.importorskip("orders.models")
PurchaseOrder = orders_models.PurchaseOrder
LicenceKey = orders_models.LicenceKey

LICENCE_KEY = "RV7QX-PL9ZM-4RTV8-WN3YB"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _awaiting_approval(*, created_by, confirmed_by) -> PurchaseOrder:
    return PurchaseOrder.objects.create(
        status=PurchaseOrder.Status.AWAITING_APPROVAL,
        external_id=f"PO-T-{uuid.uuid4().hex[:8].upper()}",
        idempotency_key=uuid.uuid4(),
        total=Decimal("5000.00"),
        created_by=created_by,
        confirmed_by=confirmed_by,
    )


def test_an_approver_cannot_approve_a_po_they_created_and_confirmed():
    buyer_approver = make_user("both-hats", "Buyer", "Approver")
    po = _awaiting_approval(created_by=buyer_approver, confirmed_by=buyer_approver)

    response = _client(buyer_approver).post(reverse("orders:po_approve", args=[po.pk]))

    assert response.status_code == 302
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.AWAITING_APPROVAL
    assert po.approved_by is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PO_APPROVE).exists()


def test_an_approver_cannot_approve_a_po_they_only_confirmed():
    buyer = make_user("the-buyer", "Buyer")
    confirmer = make_user("confirmer", "Buyer", "Approver")
    po = _awaiting_approval(created_by=buyer, confirmed_by=confirmer)

    _client(confirmer).post(reverse("orders:po_approve", args=[po.pk]))

    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.AWAITING_APPROVAL


def test_a_second_person_with_the_approver_role_can_approve(django_capture_on_commit_callbacks):
    buyer = make_user("buyer-1", "Buyer")
    approver = make_user("approver-1", "Approver")
    po = _awaiting_approval(created_by=buyer, confirmed_by=buyer)

    # The submission task is queued on commit; it is not run here.
    with django_capture_on_commit_callbacks(execute=False):
        response = _client(approver).post(reverse("orders:po_approve", args=[po.pk]))

    assert response.status_code == 302
    po.refresh_from_db()
    assert po.approved_by == approver
    assert po.status == PurchaseOrder.Status.QUEUED
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PO_APPROVE, actor=approver, target_id=str(po.pk)
    ).exists()


def test_a_buyer_without_the_approver_role_gets_403_on_approve():
    buyer = make_user("buyer-only", "Buyer")
    po = _awaiting_approval(created_by=buyer, confirmed_by=buyer)
    assert _client(buyer).post(reverse("orders:po_approve", args=[po.pk])).status_code == 403


@pytest.fixture
def customer_key():
    from tests.orders.factories import CustomerFactory, DraftFactory

    customer = CustomerFactory()
    key = LicenceKey.objects.create(
        purchase_order=DraftFactory(),
        order_sku="ROLE-SKU",
        **crypto.key_columns(LICENCE_KEY),
        source=LicenceKey.Source.RESPONSE,
        customer=customer,
    )
    return customer, key


def test_a_viewer_sees_only_the_masked_key_and_no_reveal_button(customer_key):
    customer, _ = customer_key
    viewer = _client(make_user("viewer-1", "Viewer"))

    body = viewer.get(reverse("orders:customer_detail", args=[customer.pk])).content.decode()

    assert crypto.mask(LICENCE_KEY) in body
    assert LICENCE_KEY not in body
    assert "data-reveal-key" not in body


def test_a_viewer_gets_403_on_reveal_copy_export_and_email(customer_key):
    customer, key = customer_key
    viewer = _client(make_user("viewer-2", "Viewer"))

    responses = [
        viewer.post(reverse("orders:key_reveal", args=[key.pk])),
        viewer.post(reverse("orders:key_copied", args=[key.pk])),
        viewer.post(reverse("orders:customer_keys_export", args=[customer.pk])),
        viewer.post(reverse("orders:customer_keys_email", args=[customer.pk])),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert all(LICENCE_KEY not in r.content.decode() for r in responses)
    assert not AuditEvent.objects.filter(
        action__in=[AuditEvent.Action.KEY_REVEAL, AuditEvent.Action.KEY_EXPORT]
    ).exists()


def test_a_key_custodian_reveals_and_exports_and_each_is_audited(customer_key):
    customer, key = customer_key
    custodian_user = make_user("custodian", "Key custodian")
    custodian = _client(custodian_user)

    revealed = custodian.post(reverse("orders:key_reveal", args=[key.pk]))
    exported = custodian.post(reverse("orders:customer_keys_export", args=[customer.pk]))

    assert revealed.status_code == 200 and LICENCE_KEY in revealed.content.decode()
    assert "no-store" in revealed["Cache-Control"]
    assert exported.status_code == 200 and LICENCE_KEY in b"".join(exported).decode()
    events = AuditEvent.objects.filter(actor=custodian_user, target_id=str(key.pk))
    assert set(events.values_list("action", flat=True)) == {
        AuditEvent.Action.KEY_REVEAL,
        AuditEvent.Action.KEY_EXPORT,
    }
    assert all(LICENCE_KEY not in f"{e.summary} {e.details}" for e in events)
