"""Sales channel end to end: an Admin creates a client in the browser and sees its calls;
a shop's fulfilment is bought from the sandbox over HTTP and announced to the shop's own
HTTP server with a Standard Webhooks signature."""

import threading
from decimal import Decimal

import httpx
import pytest
import standardwebhooks
from werkzeug.serving import make_server

from channel import services
from orders import tasks as order_tasks
from sandbox import Sandbox
from tests.channel.conftest import CallbackServer, mirror_and_price, order_body, paid

from .test_webhooks_flow import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

API_KEY = "e2e-channel-key"


@pytest.fixture
def sandbox_server(settings):
    sb = Sandbox(products=30, seed=13, api_key=API_KEY)
    server = make_server("127.0.0.1", 0, sb.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    settings.LICENDI_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    settings.LICENDI_API_KEY = API_KEY
    settings.LICENDI_MAX_RETRIES = 0
    settings.MIN_MARGIN_PERCENT = Decimal("10.0")
    try:
        yield sb
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def callback_server():
    server = CallbackServer()
    yield server
    server.close()


def test_admin_creates_a_client_in_the_browser_and_sees_its_calls(
    page, login, user_in_role, live_url
):
    login(page, user_in_role("Admin"))
    page.goto(live_url("/channel/"))
    page.fill("#id_name", "Browser shop")
    page.fill("#id_daily_spend_cap", "300")
    page.fill("#id_order_spend_cap", "100")
    page.fill("#id_approval_threshold", "80")
    page.click("#client-create-form button[type=submit]")
    token = page.locator("#new-token-value").inner_text().strip()
    assert token.startswith("chan_")

    answer = httpx.get(live_url("/channel/v1/offers"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    refused = httpx.get(
        live_url("/channel/v1/fulfilments/1"), headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 404

    page.goto(live_url("/channel/"))
    page.click("text=Browser shop")
    calls = page.locator("#recent-calls tbody tr")
    assert calls.count() == 2
    assert "not_found" in calls.nth(0).inner_text()
    assert "GET /channel/v1/offers" in calls.nth(1).inner_text()
    assert token not in page.content()
    page.click("text=All calls")
    assert page.locator("#call-table tbody tr").count() == 2


def test_a_fulfilment_bought_from_the_sandbox_is_announced_by_signed_callback(
    sandbox_server, callback_server, live_url
):
    sb = sandbox_server
    sku = sb.order_skus()[0]
    sb.set_stock(sku, "backorder")  # Licendi takes the order now, the keys come later
    combos = mirror_and_price(sb)
    issued = services.client_create(
        name="HTTP shop",
        daily_spend_cap=Decimal("1000.00"),
        order_spend_cap=Decimal("500.00"),
        approval_threshold=Decimal("500.00"),
        allow_out_of_stock=True,
        callback_url=callback_server.url,
    )
    headers = {"Authorization": f"Bearer {issued.token}", "Idempotency-Key": "e2e-1"}
    body = order_body([(sku, 2, paid(combos[sku]))], order_id="WOO-7001")

    accepted = httpx.post(live_url("/channel/v1/fulfilments"), json=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    url = live_url(accepted.json()["url"])
    assert httpx.get(url, headers=headers).json()["state"] == "pending"
    assert callback_server.received == []

    # Licendi delivers; the beat's poll fetches the keys; the fulfilment follows its PO.
    sb.release_pending()
    order_tasks.purchase_orders_poll_pending.delay()
    wait_for(lambda: len(callback_server.received) == 1)

    headers_in, raw = callback_server.received[0]
    event = standardwebhooks.Webhook(issued.callback_secret).verify(raw, headers_in)
    assert event["type"] == "fulfilment.delivered"
    assert event["data"]["orderId"] == "WOO-7001"
    delivered = httpx.get(url, headers=headers).json()
    assert delivered["state"] == "delivered" and len(delivered["keys"]) == 2
    assert all(key["key"] not in raw.decode() for key in delivered["keys"])
    # A retry of the shop's POST answers the first answer again, buying nothing more.
    again = httpx.post(live_url("/channel/v1/fulfilments"), json=body, headers=headers)
    assert again.status_code == 202 and again.json()["id"] == accepted.json()["id"]
    assert len(sb.orders) == 1
