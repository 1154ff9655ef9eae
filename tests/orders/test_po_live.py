"""The PO page follows background work: its live part polls while the PO is in flight
(queued, submitting, unknown, awaiting keys), stops once it rests, and a background
failure shows on the PO's timeline instead of a page that silently says "Queued"."""

import pytest
from django.urls import reverse

from licendi import LicendiError
from orders import services
from orders.models import PurchaseOrder
from orders.tasks import purchase_order_submit

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status
POLLING = 'hx-trigger="every 3s, live-refresh from:body"'


def _queue(po, user, django_capture_on_commit_callbacks):
    """Confirm without running the submission: as if no worker had taken it yet."""
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=user)
    po.refresh_from_db()
    assert po.status == S.QUEUED
    return po


def test_a_queued_po_polls_until_delivered_then_stops(
    make_po, stock_skus, buyer, client_for, django_capture_on_commit_callbacks
):
    po = _queue(make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks)
    client = client_for("Viewer")
    live_url = reverse("orders:po_live", args=[po.pk])

    page = client.get(reverse("orders:po_detail", args=[po.pk])).content.decode()
    assert f'hx-get="{live_url}"' in page and POLLING in page

    services.purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == S.DELIVERED
    part = client.get(live_url).content.decode()
    assert 'data-status="delivered"' in part and 'data-in-flight="false"' in part
    assert "hx-trigger" not in part
    assert "<html" not in part  # the part alone, not a page


@pytest.mark.parametrize(
    ("status", "polls"),
    [
        (S.DRAFT, False),
        (S.AWAITING_APPROVAL, False),
        (S.HELD, False),
        (S.QUEUED, True),
        (S.SUBMITTING, True),
        (S.UNKNOWN, True),
        (S.PENDING_DELIVERY, True),
        (S.PARTIALLY_DELIVERED, True),
        (S.DELIVERED, False),
        (S.FAILED, False),
        (S.CANCELLED, False),
    ],
)
def test_the_live_part_polls_only_while_background_work_can_move_the_po(
    make_po, stock_skus, client_for, status, polls
):
    po = make_po([(stock_skus[0], 1)])
    # Statuses past the draft carry a number and an Idempotency-Key (constraints).
    PurchaseOrder.objects.filter(pk=po.pk).update(
        status=status,
        external_id=f"PO-LIVE-{po.pk}",
        idempotency_key="00000000-0000-4000-8000-000000000001",
    )
    part = client_for("Viewer").get(reverse("orders:po_live", args=[po.pk])).content.decode()
    assert (POLLING in part) is polls
    assert f'data-status="{status}"' in part


def test_a_submission_task_that_crashes_says_why_on_the_timeline(
    sandbox, make_po, stock_skus, buyer, client_for, django_capture_on_commit_callbacks
):
    po = _queue(make_po([(stock_skus[0], 1)]), buyer, django_capture_on_commit_callbacks)
    # A refusal the price check does not retry: the task fails outright.
    sandbox.faults.inject(
        method="GET", path="/api/products/*", kind="status", status=403, times=None
    )

    with pytest.raises(LicendiError):
        purchase_order_submit.apply(args=[po.pk])

    po.refresh_from_db()
    assert po.status == S.QUEUED  # the recovery sweep sends it again later
    part = client_for("Viewer").get(reverse("orders:po_live", args=[po.pk])).content.decode()
    assert "Sending to Licendi failed:" in part
    assert POLLING in part

    # The same failure twice is one timeline entry, not one per attempt.
    with pytest.raises(LicendiError):
        purchase_order_submit.apply(args=[po.pk])
    assert po.events.filter(message__startswith="Sending to Licendi failed:").count() == 1
