"""The price guard: a PO whose supplier price rose beyond tolerance is held, not paid."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import PurchaseOrder

from .helpers import order_debits, upstream_orders

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


@pytest.fixture
def sku(stock_skus):
    return stock_skus[0]


def test_price_rise_beyond_tolerance_holds_and_charges_nothing(
    sandbox, make_po, confirm, combos, sku
):
    confirmed = combos[sku].net_price
    risen = (confirmed * Decimal("1.05")).quantize(Decimal("0.01"))  # +5 % > 2 %
    balance_before = sandbox.balance
    po = make_po([(sku, 1)])
    sandbox.set_price(sku, net_price=risen)

    confirm(po)

    assert po.status == S.HELD
    assert sandbox.balance == balance_before
    assert upstream_orders(sandbox, po.external_id) == []
    [row] = po.hold_details["lines"]
    assert (row["confirmed_net"], row["current_net"]) == (str(confirmed), str(risen))
    assert "net" in po.events.get(to_status=S.HELD).message


def test_price_rise_within_tolerance_is_bought(sandbox, make_po, confirm, combos, sku):
    confirmed = combos[sku].net_price
    within = (confirmed * Decimal("1.01")).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    po = make_po([(sku, 1)])
    sandbox.set_price(sku, net_price=within)
    confirm(po)
    assert po.status == S.DELIVERED
    assert po.upstream_total == within


def test_reconfirmed_held_order_is_bought_at_the_new_price(
    sandbox, make_po, confirm, combos, sku, buyer, django_capture_on_commit_callbacks
):
    risen = (combos[sku].net_price * 2).quantize(Decimal("0.01"))
    po = make_po([(sku, 2)])
    sandbox.set_price(sku, net_price=risen)
    confirm(po)
    assert po.status == S.HELD

    with django_capture_on_commit_callbacks(execute=True):
        services.purchase_order_reconfirm(purchase_order_id=po.pk, user=buyer)

    po.refresh_from_db()
    assert po.status == S.DELIVERED
    assert po.total == risen * 2 == po.upstream_total
    assert len(order_debits(sandbox, po.upstream_id)) == 1


def test_held_order_can_be_cancelled(sandbox, make_po, confirm, combos, sku, buyer):
    po = make_po([(sku, 1)])
    sandbox.set_price(sku, net_price=combos[sku].net_price * 3)
    confirm(po)
    services.purchase_order_cancel(purchase_order_id=po.pk, user=buyer)
    po.refresh_from_db()
    assert po.status == S.CANCELLED
    assert upstream_orders(sandbox, po.external_id) == []


def test_out_of_stock_since_confirmation_holds(sandbox, make_po, confirm, sku):
    balance_before = sandbox.balance
    po = make_po([(sku, 1)])
    sandbox.set_stock(sku, "sold_out")
    confirm(po)
    assert po.status == S.HELD
    assert "out of stock" in po.events.get(to_status=S.HELD).message
    assert sandbox.balance == balance_before


def test_vanished_product_holds(sandbox, make_po, confirm, sku):
    po = make_po([(sku, 1)])
    sandbox.remove_product(sku.split("::")[0])
    confirm(po)
    assert po.status == S.HELD
    assert po.hold_details["lines"][0]["gone"] is True


def test_price_is_not_rechecked_once_the_order_may_exist(
    sandbox, make_po, stock_skus, buyer, combos, sku, django_capture_on_commit_callbacks
):
    """After a send with unknown outcome, a price change must not hold an order already paid."""
    po = make_po([(sku, 1)])
    with django_capture_on_commit_callbacks(execute=False):
        services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
    sandbox.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    with pytest.raises(services.SubmissionOutcomeUnknown):
        services.purchase_order_submit(purchase_order_id=po.pk)
    sandbox.set_price(sku, net_price=combos[sku].net_price * 3)

    services.purchase_order_submit(purchase_order_id=po.pk)

    po.refresh_from_db()
    assert po.status == S.DELIVERED
