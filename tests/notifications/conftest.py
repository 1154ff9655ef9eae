"""Notifications fixtures: staff with e-mail addresses and a PO confirmed for approval."""

from decimal import Decimal

import pytest

from orders import services as orders_services
from orders.models import PurchaseOrder
from tests.orders.factories import mirror_sandbox_catalog


@pytest.fixture
def staff(user_in_role):
    """staff("Approver") -> a user in those roles with an e-mail address."""

    def _make(*roles: str):
        user = user_in_role(*roles)
        user.email = f"{user.username}@reseller.example"
        user.save(update_fields=["email"])
        return user

    return _make


@pytest.fixture
def confirm_for_approval(sandbox, settings, django_capture_on_commit_callbacks):
    """confirm_for_approval(buyer) -> a PO `buyer` created and confirmed above the
    approval threshold, with what was queued on commit run (as in production)."""
    settings.PO_APPROVAL_THRESHOLD = Decimal("10.00")
    settings.LICENDI_MAX_RETRIES = 0
    combos = mirror_sandbox_catalog(sandbox)
    sku = next(s for s, c in sorted(combos.items()) if c.in_stock and c.net_price > 10)

    def _confirm(buyer) -> PurchaseOrder:
        po = orders_services.purchase_order_create(user=buyer, customer=None)
        orders_services.purchase_order_line_set(purchase_order_id=po.pk, order_sku=sku, quantity=1)
        with django_capture_on_commit_callbacks(execute=True):
            orders_services.purchase_order_confirm(purchase_order_id=po.pk, user=buyer)
        po.refresh_from_db()
        assert po.status == PurchaseOrder.Status.AWAITING_APPROVAL
        return po

    return _confirm
