"""The wallet overview in a real browser: chart drawn under the CSP, Refresh works."""

from decimal import Decimal

import pytest

from tests.e2e.conftest import browser, live_url, login, page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_finance_sees_balance_chart_and_refreshes_the_wallet(
    page,  # noqa: F811
    login,  # noqa: F811
    live_url,  # noqa: F811
    user_in_role,
    sandbox,
    settings,
):
    settings.LOW_BALANCE_THRESHOLD = Decimal("6000.00")
    problems: list[str] = []
    # A CSP violation or a script error shows up as a console error (the layout has no
    # favicon, whose 404 is not ours to judge here).
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and "favicon" not in (msg.location or {}).get("url", "")
            and problems.append(msg.text)
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sku = sandbox.order_skus()[0]
    for _ in range(3):
        sandbox.place_order(items=[(sku, 1)])

    login(page, user_in_role("Finance"))
    page.goto(live_url("/wallet/"))
    assert "has not been read yet" in page.content()
    page.click("#wallet-refresh")
    page.wait_for_selector("#wallet-balance-chart")
    assert page.locator("#low-balance-banner").is_visible()
    drawn = page.evaluate(
        "() => !!window.Chart && !!Chart.getChart(document.getElementById('wallet-balance-chart'))"
    )
    assert drawn
    assert f"{sandbox.balance:,}" in page.locator("#wallet-balance").inner_text()
    assert problems == []
