"""The login page and layout in a real browser."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_and_sees_the_layout(page, login, user_in_role, live_url):
    user = user_in_role("Buyer")
    page.goto(live_url("/"))
    assert "/login/" in page.url
    login(page, user)
    nav = page.locator("nav")
    for label in ("Catalog", "Orders", "Customers", "Wallet"):
        assert nav.get_by_role("link", name=label).count() == 1
    # Admin-only sections are not offered to a buyer.
    assert nav.get_by_role("link", name="Webhooks").count() == 0
