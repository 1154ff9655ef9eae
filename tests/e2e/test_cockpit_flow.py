"""The home dashboard and notifications in a real browser (Debian chromium, live server)."""

from decimal import Decimal

import pytest

from notifications.models import Notification
from orders.models import PurchaseOrder
from tests.dashboard import builders as b
from tests.wallet.factories import LedgerEntryFactory
from wallet.models import LedgerEntry

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

S = PurchaseOrder.Status


def refresh_live_part(page) -> None:
    """What the 20-second poll does, now: the same event the page uses on becoming visible."""
    with page.expect_response(lambda r: r.url.endswith("/dashboard/live/")):
        page.evaluate("() => document.body.dispatchEvent(new Event('dashboard-refresh'))")
    page.wait_for_load_state("networkidle")


def test_approver_sees_the_badge_opens_the_inbox_and_follows_it_to_the_po(
    page, login, live_url, roles, user_in_role, problems
):
    buyer = user_in_role("Buyer")
    approver = user_in_role("Approver")
    # Stored (and committed) as the confirmation leaves it: the receiver notifies at once.
    po = b.po(S.AWAITING_APPROVAL, created_by=buyer, confirmed_by=buyer)
    assert Notification.objects.filter(recipient=approver).count() == 1
    assert not Notification.objects.filter(recipient=buyer).exists()

    login(page, approver)
    badge = page.locator("#notifications-badge")
    assert badge.inner_text().strip().startswith("1")
    todo = page.locator('[data-todo="approval"]')
    assert "1" in todo.inner_text()

    page.click("#notifications-link")
    page.wait_for_url("**/notifications/")
    item = page.locator(f'[data-notification="{Notification.objects.get().pk}"]')
    assert po.external_id in item.inner_text()
    opener = item.locator("[data-open-notification]")
    assert opener.inner_text().startswith(f"{po.external_id} awaits your approval")
    opener.click()

    page.wait_for_url(f"**/orders/{po.pk}/")
    assert po.external_id in page.content()
    assert page.locator("#notifications-badge").count() == 0
    assert problems == []


def test_dashboard_todos_appear_and_clear_without_reload(
    page, login, live_url, roles, user_in_role, problems, settings
):
    settings.LOW_BALANCE_THRESHOLD = Decimal("200.00")
    b.snapshot("150.00", tier="Gold")
    for day, (amount, after) in enumerate([("-40.00", "190.00"), ("-40.00", "150.00")]):
        LedgerEntryFactory(
            amount=Decimal(amount),
            balance_after=Decimal(after),
            type=LedgerEntry.Type.ORDER,
            position=(day + 1) * 1000,
        )
    login(page, user_in_role("Buyer"))
    assert page.locator("#dashboard-todos-empty").is_visible()
    assert "150.00 EUR" in page.locator("#dashboard-balance").inner_text()
    assert page.locator("#dashboard-low-balance").is_visible()
    drawn = page.evaluate(
        "() => !!window.Chart"
        " && !!Chart.getChart(document.getElementById('dashboard-spend-chart'))"
        " && !!Chart.getChart(document.getElementById('dashboard-balance-chart'))"
    )
    assert drawn

    held = b.po(S.HELD)
    refresh_live_part(page)
    todo = page.locator('[data-todo="po_held"]')
    assert "1" in todo.inner_text()
    todo.click()
    page.wait_for_url("**/orders/?status=held")
    assert held.external_id in page.content()

    page.go_back()
    PurchaseOrder.objects.filter(pk=held.pk).update(status=S.CANCELLED)
    refresh_live_part(page)
    assert page.locator('[data-todo="po_held"]').count() == 0
    assert page.locator("#dashboard-todos-empty").is_visible()
    assert problems == []


def test_home_and_inbox_fit_a_375_pixel_screen(page, login, live_url, roles, user_in_role):
    b.snapshot("1234567.89")
    b.po(S.UNKNOWN)
    login(page, user_in_role("Admin"))
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/", "/notifications/", "/notifications/preferences/"):
        page.goto(live_url(path))
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        assert page.locator("h1").count() == 1
