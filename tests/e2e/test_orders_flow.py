"""A buyer builds a purchase order in a real browser and follows it to its keys."""

import pytest

from orders.models import PurchaseOrder
from tests.orders.factories import CustomerFactory, in_stock_skus, mirror_sandbox_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_buyer_orders_for_a_customer_and_reveals_a_key(
    page, login, live_url, sandbox, roles, user_in_role, settings
):
    settings.LICENDI_MAX_RETRIES = 0
    combos = mirror_sandbox_catalog(sandbox)
    first, second = in_stock_skus(combos, 2)
    customer = CustomerFactory(name="Ada Lovelace")
    login(page, user_in_role("Buyer", "Key custodian"))
    page.on("dialog", lambda dialog: dialog.accept())

    # Start from a catalog link (?add=) and pick the customer.
    page.goto(live_url(f"/orders/new/?add={first}"))
    assert page.input_value("#id_order_sku") == first
    page.select_option("#id_customer", label=str(customer))
    page.fill("#id_quantity", "2")
    page.click("#create-draft")
    page.wait_for_url("**/edit/")

    # Add a second line through the catalog search (htmx).
    page.fill("#combo-search", second)
    row = page.locator(f'#combo-result-table tr[data-order-sku="{second}"]')
    row.get_by_role("button", name="Add").click()
    page.wait_for_selector(f'#po-lines tr[data-order-sku="{second}"]')
    assert page.locator("#po-lines tbody tr").count() == 2

    page.click("#confirm-po")
    page.wait_for_selector('#po-status[data-status="delivered"]')
    po = PurchaseOrder.objects.get()
    assert po.status == PurchaseOrder.Status.DELIVERED
    assert page.locator("#po-keys tbody tr").count() == 3
    clear = {k for item in sandbox.orders[po.upstream_id]["items"] for k in item["keys"]}
    body = page.content()
    assert not any(key in body for key in clear)  # masked until revealed

    key = po.keys.order_by("pk").first()
    page.click(f'#key-{key.pk} [data-reveal-key="{key.pk}"]')
    revealed = page.locator(f"#key-value-{key.pk}")
    revealed.wait_for()
    assert revealed.inner_text().strip() in clear

    page.click(f'a[href="/customers/{customer.pk}/"]')
    page.wait_for_selector("#customer-keys")
    assert (
        page.locator(f'#customer-keys tr[data-key="{key.pk}"]').inner_text().count(key.key_masked)
        == 1
    )
    assert po.external_id in page.content()
