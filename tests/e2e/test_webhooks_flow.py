"""Webhooks end to end: register through the page, the sandbox delivers signed webhooks
over real HTTP to the live server, and the late keys show (masked) on the customer's page."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from werkzeug.serving import make_server

from backoffice import crypto
from orders.models import Customer, LicenceKey, PurchaseOrder, PurchaseOrderLine
from orders.services import purchase_order_submit
from sandbox import Sandbox
from webhooks import secrets
from webhooks.models import WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

API_KEY = "e2e-webhooks-key"


@pytest.fixture
def sandbox_server(settings, live_server):
    """The sandbox on a free loopback port, its delivery thread running."""
    sb = Sandbox(products=30, seed=11, api_key=API_KEY)
    server = make_server("127.0.0.1", 0, sb.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    sb.delivery.backoff = 0.2  # retries come quickly in a test
    sb.start_delivery_thread()
    settings.LICENDI_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    settings.LICENDI_API_KEY = API_KEY
    settings.LICENDI_MAX_RETRIES = 0
    settings.WEBHOOK_PUBLIC_URL = live_server.url + "/hooks/licendi"
    secrets.clear_cache()
    try:
        yield sb
    finally:
        sb.stop_delivery_thread()
        server.shutdown()
        thread.join(timeout=5)
        secrets.clear_cache()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_late_keys_arrive_by_signed_webhook_and_show_masked_on_the_customer_page(
    page, login, user_in_role, live_url, sandbox_server
):
    sb = sandbox_server
    admin = user_in_role("Admin")
    login(page, admin)

    # 1. Register the endpoint through the page; the secret is shown once.
    page.goto(live_url("/webhooks/endpoints/"))
    assert page.input_value("#id_url") == live_url("/hooks/licendi")
    page.click("#endpoint-register-form button[type=submit]")
    secret_text = page.locator("#new-secret").inner_text().strip()
    assert secret_text.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert sb.state.webhooks[endpoint.upstream_id].secret == secret_text
    page.click("[data-dismiss-secret]")
    assert page.locator("#new-secret").count() == 0
    page.reload()
    assert "whsec_" not in page.content()

    # 2. An order for a backorder item: paid now, keys later.
    sku = sb.order_skus()[0]
    sb.set_stock(sku, "backorder")
    customer = Customer.objects.create(name="Ana Webhook", company="Keys S.L.")
    po = PurchaseOrder.objects.create(
        status=PurchaseOrder.Status.SUBMITTING,
        external_id=f"PO-E2E-{uuid.uuid4().hex[:8].upper()}",
        idempotency_key=uuid.uuid4(),
        customer=customer,
        total=Decimal("0.00"),
    )
    PurchaseOrderLine.objects.create(
        purchase_order=po, order_sku=sku, name=sku, quantity=2, unit_net_price=Decimal("1.00")
    )
    purchase_order_submit(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.PENDING_DELIVERY
    assert po.keys.count() == 0

    # 3. Licendi releases the keys: signed webhooks over HTTP to the live server.
    sb.release_pending(po.upstream_id)
    wait_for(lambda: LicenceKey.objects.filter(purchase_order=po).count() == 2)
    wait_for(lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 3)
    attempts = sb.webhook_deliveries
    assert {entry["status"] for entry in attempts} == {200}

    # 4. The customer's page lists both keys, masked.
    page.goto(live_url(f"/customers/{customer.pk}/"))
    keys = list(LicenceKey.objects.filter(purchase_order=po))
    table = page.locator("#customer-keys")
    html = page.content()
    for key in keys:
        clear = crypto.decrypt(key.key_encrypted)
        assert clear not in html
        assert table.locator(f"text={key.key_masked}").count() == 1

    # The event log shows the three deliveries, processed.
    page.goto(live_url("/webhooks/?status=processed"))
    assert page.locator("table tbody tr").count() == 3
