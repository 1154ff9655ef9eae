"""The confirm dialog says what confirming will do: approval above the threshold, else
sent at once and paid from the wallet. The text comes from the server."""

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from orders import services
from orders.models import PurchaseOrder

pytestmark = pytest.mark.django_db


def _dialog(client, po: PurchaseOrder, url_name: str) -> str:
    page = client.get(reverse(url_name, args=[po.pk])).content.decode()
    start = page.index('action="' + reverse("orders:po_confirm", args=[po.pk]))
    attr = page.index('data-confirm="', start) + len('data-confirm="')
    return html.unescape(page[attr : page.index('"', attr)])


@pytest.mark.parametrize("url_name", ["orders:po_edit", "orders:po_detail"])
def test_below_the_threshold_it_says_sent_and_paid(
    make_po, stock_skus, buyer, client, settings, url_name
):
    po = make_po([(stock_skus[0], 1)])
    settings.PO_APPROVAL_THRESHOLD = po.total + Decimal("1.00")
    client.force_login(buyer)

    text = _dialog(client, po, url_name)

    assert text.startswith(f"Confirm {po.total:,.2f}")
    assert "sent to Licendi at once and paid from the wallet" in text
    assert "approv" not in text


@pytest.mark.parametrize("url_name", ["orders:po_edit", "orders:po_detail"])
def test_above_the_threshold_it_says_approval_and_nothing_paid(
    make_po, stock_skus, buyer, client, settings, url_name
):
    po = make_po([(stock_skus[0], 3)])
    settings.PO_APPROVAL_THRESHOLD = Decimal("0.01")
    client.force_login(buyer)

    text = _dialog(client, po, url_name)

    assert "above the approval threshold of 0.01" in text
    assert "Nothing is sent to Licendi or paid until it is approved" in text
    assert "paid from the wallet" not in text
    # And that is what confirming does.
    services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.AWAITING_APPROVAL


def test_exactly_at_the_threshold_no_approval_is_announced(make_po, stock_skus, settings):
    po = make_po([(stock_skus[0], 1)])
    settings.PO_APPROVAL_THRESHOLD = po.total
    assert "paid from the wallet" in services.purchase_order_confirm_summary(po=po)
