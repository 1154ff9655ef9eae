"""Reconciliation: order debits matched to purchase orders by the upstream order id."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import PurchaseOrder
from wallet import selectors
from wallet.models import LedgerEntry

from .factories import LedgerEntryFactory, PurchaseOrderFactory

pytestmark = pytest.mark.django_db


def test_order_debits_are_matched_to_their_purchase_orders(sandbox, sync, client_for):
    sku = sandbox.order_skus()[0]
    placed = [sandbox.place_order(items=[(sku, 1)], external_id=f"PO-T-{i}") for i in range(3)]
    pos = [PurchaseOrderFactory(upstream_id=o["id"], external_id=o["externalId"]) for o in placed]
    sync()

    debits = selectors.ledger_entries_with_po().filter(type="order")
    assert {(d.reference, d.po_pk) for d in debits} == {(po.upstream_id, po.pk) for po in pos}
    assert not selectors.debits_without_po().exists()
    assert not selectors.purchase_orders_without_debit().exists()

    html = client_for("Finance").get(reverse("wallet:ledger")).content.decode()
    for po in pos:
        assert f'href="{reverse("orders:po_detail", args=[po.pk])}"' in html


def test_an_order_placed_on_the_supplier_dashboard_is_unmatched_until_its_po_exists(
    sandbox, sync, client_for
):
    sku = sandbox.order_skus()[0]
    outside = sandbox.place_order(items=[(sku, 1)])
    sync()
    unmatched = selectors.debits_without_po()
    assert [e.reference for e in unmatched] == [outside["id"]]
    page = client_for("Finance").get(reverse("wallet:reconciliation")).content.decode()
    assert outside["id"] in page

    # The order import brings the PO: the same debit is now matched, with nothing re-synced.
    po = PurchaseOrderFactory(
        upstream_id=outside["id"], source=PurchaseOrder.Source.IMPORTED, external_id=None
    )
    assert not selectors.debits_without_po().exists()
    assert selectors.ledger_entries_with_po().get(reference=outside["id"]).po_pk == po.pk


def test_unmatched_filter_on_the_ledger_lists_only_order_entries_without_po(client_for):
    matched = LedgerEntryFactory(reference="ord-m1")
    PurchaseOrderFactory(upstream_id="ord-m1")
    unmatched = LedgerEntryFactory(reference="ord-u1")
    LedgerEntryFactory(type=LedgerEntry.Type.TOPUP, reference="", amount=Decimal("50.00"))
    client = client_for("Finance")
    rows = client.get(reverse("wallet:ledger"), {"matched": "no"}).context["table"].data
    assert [r.upstream_id for r in rows] == [unmatched.upstream_id]
    rows = client.get(reverse("wallet:ledger"), {"matched": "yes"}).context["table"].data
    assert [r.upstream_id for r in rows] == [matched.upstream_id]


def test_refunds_link_back_to_their_order(client_for):
    po = PurchaseOrderFactory(upstream_id="ord-r1")
    LedgerEntryFactory(reference="ord-r1")
    refund = LedgerEntryFactory(
        type=LedgerEntry.Type.REFUND, reference="ord-r1", amount=Decimal("10.00")
    )
    assert selectors.ledger_entries_with_po().get(pk=refund.pk).po_pk == po.pk


def test_purchase_orders_with_no_debit_are_listed(client_for):
    charged = PurchaseOrderFactory(upstream_id="ord-c1")
    LedgerEntryFactory(reference="ord-c1")
    not_seen = PurchaseOrderFactory(upstream_id="ord-n1")
    PurchaseOrderFactory(upstream_id=None, status=PurchaseOrder.Status.DRAFT, external_id=None)
    PurchaseOrderFactory(upstream_id="ord-f1", status=PurchaseOrder.Status.FAILED)

    assert list(selectors.purchase_orders_without_debit()) == [not_seen]
    page = client_for("Finance").get(reverse("wallet:reconciliation")).content.decode()
    assert not_seen.external_id in page
    assert charged.external_id not in page


def test_the_ledger_page_searches_by_our_po_number(client_for):
    PurchaseOrderFactory(upstream_id="ord-s1", external_id="PO-2026-0777")
    entry = LedgerEntryFactory(reference="ord-s1")
    LedgerEntryFactory(reference="ord-s2")
    rows = client_for("Finance").get(reverse("wallet:ledger"), {"q": "po-2026-0777"})
    assert [r.upstream_id for r in rows.context["table"].data] == [entry.upstream_id]
