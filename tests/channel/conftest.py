"""Channel fixtures: a priced catalog (sandbox or factories), shops with tokens, stock keys."""

import importlib
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from backoffice import crypto
from catalog.models import PricingRule
from catalog.services import pricing_apply
from channel import services
from channel.models import Action
from orders.models import LicenceKey, PurchaseOrder
from tests.orders.factories import mirror_sandbox_catalog


@pytest.fixture(autouse=True)
def _fast_upstream(settings):
    settings.LICENDI_MAX_RETRIES = 0
    settings.PO_APPROVAL_THRESHOLD = Decimal("500.00")
    settings.PRICE_GUARD_TOLERANCE_PERCENT = Decimal("2.0")
    settings.MIN_MARGIN_PERCENT = Decimal("10.0")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _roles(request):
    """Transactional tests flush the tables; put the roles back when they are missing."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps
    from django.contrib.auth.models import Group

    from backoffice.permissions import ROLES

    if Group.objects.filter(name__in=ROLES).count() < len(ROLES):
        roles_migration = importlib.import_module("backoffice.migrations.0002_roles")
        roles_migration.create_roles(apps, None)


def price_catalog(markup: str = "25.00") -> None:
    PricingRule.objects.create(
        scope=PricingRule.Scope.DEFAULT,
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=Decimal(markup),
    )
    pricing_apply()
    services.offers_refresh()


@pytest.fixture
def combos(sandbox, db):
    """Every sandbox product mirrored into catalog rows and priced at net + 25 %."""
    found = mirror_sandbox_catalog(sandbox)
    price_catalog()
    for combo in found.values():
        combo.refresh_from_db()
    return found


@pytest.fixture
def in_stock(combos):
    """Order skus Licendi has in stock, cheapest first (small enough for every cap)."""
    return [
        sku
        for sku, combo in sorted(combos.items(), key=lambda item: (item[1].net_price, item[0]))
        if combo.in_stock
    ]


@pytest.fixture
def out_of_stock(combos):
    return [sku for sku, combo in sorted(combos.items()) if not combo.in_stock]


SHOP_DEFAULTS = {
    "daily_spend_cap": Decimal("1000.00"),
    "order_spend_cap": Decimal("300.00"),
    "margin_floor_percent": Decimal("5.00"),
    "approval_threshold": Decimal("250.00"),
}


@pytest.fixture
def make_shop(db):
    counter = iter(range(1000))

    def _make(**fields):
        values = {**SHOP_DEFAULTS, **fields}
        return services.client_create(name=f"Shop {next(counter)}", **values)

    return _make


@pytest.fixture
def shop(make_shop):
    return make_shop()


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def shop_api(shop) -> Client:
    return bearer(shop.token)


def add_stock_keys(order_sku: str, count: int, *, prefix: str = "STOCK") -> list[LicenceKey]:
    """Keys held by the back-office (a delivered PO without a customer)."""
    po = PurchaseOrder.objects.create(status=PurchaseOrder.Status.DRAFT)
    keys = []
    for _ in range(count):
        value = f"{prefix}-{uuid.uuid4().hex[:20].upper()}"
        keys.append(
            LicenceKey.objects.create(
                purchase_order=po,
                order_sku=order_sku,
                **crypto.key_columns(value),
                source=LicenceKey.Source.RESPONSE,
            )
        )
    return keys


def order_body(lines, *, order_id=None, email="ana@example.com", name="Ana Pérez"):
    """lines: [(order_sku, quantity, unit price paid)]"""
    return {
        "orderId": order_id or f"WC-{uuid.uuid4().hex[:8]}",
        "customer": {"email": email, "name": name},
        "lines": [{"orderSku": s, "quantity": q, "price": str(p)} for s, q, p in lines],
    }


def paid(combo, factor: str = "1.25") -> Decimal:
    return (combo.net_price * Decimal(factor)).quantize(Decimal("0.01"))


ALL_ACTIONS = list(Action.values)


class CallbackServer:
    """A shop's callback endpoint on a loopback port: records every delivery and answers
    the statuses queued in `answers` (then 204)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = server.answers.pop(0) if server.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hooks/channel"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def callback_server():
    server = CallbackServer()
    yield server
    server.close()


def mirror_and_price(sb) -> dict:
    found = mirror_sandbox_catalog(sb)
    price_catalog()
    return found
