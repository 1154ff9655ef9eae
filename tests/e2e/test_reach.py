"""Reach: every main page on a 375 px phone without sideways scrolling, a skip link, the
error pages styled (their CSS loads under the CSP), a purchase order by keyboard alone."""

import pytest

from backoffice.permissions import ROLES
from catalog.models import Product
from catalog.services import catalog_sync
from orders.models import PurchaseOrder
from tests.e2e.conftest import E2E_PASSWORD
from tests.orders.factories import (
    CustomerFactory,
    DraftFactory,
    in_stock_skus,
    mirror_sandbox_catalog,
)
from wallet import services as wallet_services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo_data(sandbox, roles):
    """A synced catalog and wallet, a customer and a draft order: pages with rows."""
    catalog_sync(trigger="command", user=None)
    wallet_services.wallet_sync()
    customer = CustomerFactory(name="Ada Lovelace-Byron, Countess of a Very Long Name Ltd")
    draft = DraftFactory(customer=customer)
    product = Product.objects.order_by("-name").first()  # long names sort late
    return {"customer": customer, "draft": draft, "product_sku": product.sku}


def log_in(page, user) -> None:
    """The login form at phone size (the navigation, and its Log out, start collapsed)."""
    user.set_password(E2E_PASSWORD)
    user.save(update_fields=["password"])
    page.goto("/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", E2E_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_every_main_page_fits_a_375_px_phone(phone, user_in_role, demo_data):
    log_in(phone, user_in_role(*ROLES))
    paths = [
        "/",
        "/catalog/",
        f"/catalog/products/{demo_data['product_sku']}/",
        "/catalog/price-changes/",
        "/catalog/syncs/",
        "/catalog/pricing-rules/",
        "/catalog/pricing-rules/new/",
        "/orders/",
        "/orders/new/",
        f"/orders/{demo_data['draft'].pk}/",
        f"/orders/{demo_data['draft'].pk}/edit/",
        "/keys/",
        "/customers/",
        f"/customers/{demo_data['customer'].pk}/",
        "/wallet/",
        "/wallet/ledger/",
        "/wallet/gaps/",
        "/wallet/reconciliation/",
        "/webhooks/",
        "/webhooks/endpoints/",
        "/audit/",
        "/staff/",
        "/no-such-page/",
    ]
    too_wide = {}
    for path in paths:
        phone.goto(path)
        width = overflow(phone)
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}


def test_the_login_page_fits_a_375_px_phone(phone, roles):
    phone.goto("/login/")
    assert overflow(phone) <= PHONE["width"]


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page, login, user_in_role):
    login(page, user_in_role("Viewer"))
    page.goto("/catalog/")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["A", "Skip to main content"]
    assert page.locator(".skip-link").is_visible()  # shown once focused

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab lands inside the content, past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_the_404_page_is_the_styled_one_with_its_css_allowed(page, login, user_in_role):
    refused = []
    page.on(
        "console", lambda msg: refused.append(msg.text) if "Content Security" in msg.text else 0
    )
    login(page, user_in_role("Viewer"))
    response = page.goto("/no-such-page/")

    assert response.status == 404
    assert page.locator("h1").inner_text() == "404 · Page not found"
    # Bootstrap and app.css loaded: Bootstrap's .h3 size applies to the heading.
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize") != "32px"
    assert page.evaluate("document.styleSheets.length") >= 2
    assert all(sheet.endswith(".css") for sheet in stylesheets(page))
    assert refused == []


def stylesheets(page) -> list[str]:
    return page.evaluate("[...document.styleSheets].map((sheet) => sheet.href || 'inline')")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus: it is reachable by keyboard, in order."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_a_purchase_order_is_placed_with_the_keyboard_alone(
    page, login, sandbox, roles, user_in_role, settings
):
    settings.LICENDI_MAX_RETRIES = 0
    combos = mirror_sandbox_catalog(sandbox)
    first, second = in_stock_skus(combos, 2)
    CustomerFactory(name="Ada Lovelace")
    login(page, user_in_role("Buyer"))
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"/orders/new/?add={first}")
    tab_to(page, "#id_customer")
    page.keyboard.type("Ada")
    tab_to(page, "#id_quantity")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    tab_to(page, "#create-draft")
    page.keyboard.press("Enter")
    page.wait_for_url("**/edit/")

    tab_to(page, "#combo-search")
    page.keyboard.type(second)
    add = f'#combo-result-table tr[data-order-sku="{second}"] button[type=submit]'
    page.wait_for_selector(add)
    tab_to(page, add)
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#po-lines tr[data-order-sku="{second}"]')

    tab_to(page, "#confirm-po")
    page.keyboard.press("Enter")
    page.wait_for_selector('#po-status[data-status="delivered"]')
    po = PurchaseOrder.objects.get()
    assert po.status == PurchaseOrder.Status.DELIVERED
    assert sorted(line.quantity for line in po.lines.all()) == [1, 2]
