"""The :class:`Sandbox`: catalog, books, faults and webhook delivery behind one lock."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import httpx

from .app import SandboxApp
from .catalog import Catalog
from .delivery import DeliveryQueue, Sender, http_sender
from .drift import Drift
from .faults import Faults
from .money import CURRENCY, fmt
from .state import SupplierState
from .transport import SandboxTransport


class Sandbox:
    """A stateful stand-in for the Licendi Reseller API.

    Use ``sb.app`` (WSGI) on a port or ``sb.transport()`` in-process with httpx. The
    Python methods below change the supplier's world the way things happen outside
    the back-office (price moves, stock, dashboard orders, late keys); the same
    actions are reachable over HTTP under ``/_sandbox/``.

    ``drift=True`` serves the contract's answers bent as a real supplier might bend
    them, plus a few unreadable records (see :mod:`sandbox.drift`).

    ``requests`` lists every /api call received (faulted ones included, control
    calls not), for call counting; ``peak_in_flight`` is the most /api calls it
    answered at once. ``latency_ms`` is added to every /api call, per request: calls
    wait it out side by side, not one after another (a supplier far away on the network).

    To provoke 409 ``request_in_progress``, inject
    ``faults.inject(method="POST", path="/api/orders", kind="latency", seconds=0.5,
    when="during")``: it sleeps after the Idempotency-Key is claimed; send the same
    request again once the returned fault's ``hits`` is 1.
    """

    def __init__(
        self,
        products: int = 200,
        seed: int = 1,
        api_key: str = "sandbox-key",
        variant_ratio: float = 1 / 3,
        balance: Decimal = Decimal("5000.00"),
        tier: str = "Gold",
        discount: Decimal = Decimal("30.00"),
        *,
        latency_ms: float = 0.0,
        fail_rate: float = 0.0,
        rate_limit_rate: float = 0.0,
        drift: bool = False,
    ) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if products < 0:
            raise ValueError("products must not be negative")
        if not 0 <= variant_ratio <= 1:
            raise ValueError("variant_ratio must be between 0 and 1")
        if not Decimal(0) <= Decimal(discount) < Decimal(100):
            raise ValueError("discount is a percentage in [0, 100)")
        self.api_key = api_key
        self.seed = seed
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []
        # /api calls being answered right now, and the most at once (own lock: counting
        # must not queue requests behind the state lock).
        self._flight_lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.catalog = Catalog.generate(
            count=products, seed=seed, variant_ratio=variant_ratio, discount=Decimal(discount)
        )
        self.faults = Faults(
            latency=latency_ms / 1000,
            fail_rate=fail_rate,
            rate_limit_rate=rate_limit_rate,
            seed=seed,
        )
        self.webhook_sender: Sender = http_sender
        self.delivery = DeliveryQueue(
            lock=self.lock,
            # Resolved at send time so tests can swap ``webhook_sender`` at any moment.
            send=lambda url, headers, body: self.webhook_sender(url, headers, body),
            endpoint_active=lambda endpoint_id: endpoint_id in self.state.webhooks,
        )
        self.state = SupplierState(
            catalog=self.catalog,
            lock=self.lock,
            balance=Decimal(balance),
            tier=tier,
            discount=Decimal(discount),
            on_event=self._queue_event,
        )
        # Answers bent the way a real supplier might (see sandbox.drift); None: the contract.
        self.drift: Drift | None = Drift(self.catalog.product_skus()) if drift else None
        self.app = SandboxApp(self)

    # --- transport --------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport into this sandbox, in-process (faults included)."""
        return SandboxTransport(self.app)

    def _enter_flight(self) -> None:
        with self._flight_lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _leave_flight(self) -> None:
        with self._flight_lock:
            self.in_flight -= 1

    def requests_served(self, *, clear: bool = False) -> list[tuple[str, str]]:
        """A copy of ``requests``; ``clear`` empties it in the same step."""
        with self._flight_lock:
            served = list(self.requests)
            if clear:
                self.requests.clear()
            return served

    def _record_request(self, method: str, path: str) -> None:
        # Not the state lock: counting a call must not queue it behind another's work.
        with self._flight_lock:
            self.requests.append((method, path))

    # --- wallet -----------------------------------------------------------------------

    @property
    def balance(self) -> Decimal:
        with self.lock:
            return self.state.balance

    @property
    def ledger(self) -> list[dict[str, Any]]:
        """Every ledger entry, newest first, in API shape."""
        with self.lock:
            return [entry.to_api() for entry in reversed(self.state.ledger)]

    def topup(self, amount: Decimal) -> dict[str, Any]:
        return self.state.topup(Decimal(amount)).to_api()

    def adjust(self, amount: Decimal, description: str = "Manual adjustment") -> dict[str, Any]:
        """A signed ledger adjustment (the supplier correcting the wallet)."""
        return self.state.post_ledger("adjustment", Decimal(amount), None, description).to_api()

    def refund(self, order_id: str, amount: Decimal | None = None) -> dict[str, Any]:
        """Credit (part of) an order back to the wallet, as the supplier's support would.

        The order itself is unchanged; KeyError if unknown, ValueError if the amount
        is not positive or exceeds the order total.
        """
        with self.lock:
            order = self.state.orders[order_id]
            value = order.total if amount is None else Decimal(amount)
            if not Decimal(0) < value <= order.total:
                raise ValueError("a refund is positive and at most the order total")
            description = f"Refund for order {order.id}"
            return self.state.post_ledger("refund", value, order.id, description).to_api()

    # --- catalog ----------------------------------------------------------------------

    def set_price(
        self,
        sku_or_order_sku: str,
        *,
        net_price: Decimal | None = None,
        price: Decimal | None = None,
    ) -> dict[str, Any]:
        """Set net price and/or RRP (a plain sku of a variant product: all combinations).

        Only the values given change; returns the product detail. KeyError if unknown.
        """
        with self.lock:
            product = self.catalog.set_price(
                sku_or_order_sku,
                net_price=None if net_price is None else Decimal(net_price),
                price=None if price is None else Decimal(price),
            )
            return product.to_detail()

    def change_prices(self, fraction: float = 0.01, seed: int = 2) -> list[str]:
        with self.lock:
            return self.catalog.change_prices(fraction=fraction, seed=seed)

    def set_stock(self, sku_or_order_sku: str, state: str) -> dict[str, Any]:
        """ "in_stock", "backorder" or "sold_out"; returns the product detail."""
        with self.lock:
            return self.catalog.set_stock(sku_or_order_sku, state).to_detail()

    def remove_product(self, sku: str) -> None:
        with self.lock:
            self.catalog.remove(sku)

    def product_skus(self) -> list[str]:
        with self.lock:
            return self.catalog.product_skus()

    def order_skus(self) -> list[str]:
        with self.lock:
            return self.catalog.order_skus()

    # --- orders -----------------------------------------------------------------------

    def place_order(
        self, items: Iterable[tuple[str, int]], external_id: str | None = None
    ) -> dict[str, Any]:
        """An order placed on the supplier's dashboard: debits the wallet like any order.

        Raises :class:`~sandbox.errors.ApiError` (402, 422) like the API would.
        """
        order, _ = self.state.place_order(
            items=list(items), external_id=external_id, source="dashboard"
        )
        with self.lock:
            return order.to_api()

    def release_pending(self, order_id: str | None = None) -> list[str]:
        """Deliver the missing keys; returns the ids of the orders now delivered."""
        return self.state.release_pending(order_id)

    @property
    def orders(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {order_id: order.to_api() for order_id, order in self.state.orders.items()}

    # --- webhooks ---------------------------------------------------------------------

    def _queue_event(self, event: dict[str, Any]) -> None:
        endpoints = [
            (endpoint.id, endpoint.url, endpoint.secret)
            for endpoint in self.state.webhooks.values()
            if event["type"] in endpoint.events
        ]
        if endpoints:
            self.delivery.enqueue(event, endpoints)

    def deliver_webhooks(self) -> int:
        """Attempt every queued delivery now, ignoring backoff; returns how many succeeded."""
        return self.delivery.deliver(only_due=False)

    def start_delivery_thread(self) -> None:
        self.delivery.start()

    def stop_delivery_thread(self) -> None:
        self.delivery.stop()

    @property
    def webhook_deliveries(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.delivery.log)

    @property
    def duplicate_next_deliveries(self) -> int:
        return self.delivery.duplicate_next

    @duplicate_next_deliveries.setter
    def duplicate_next_deliveries(self, count: int) -> None:
        with self.lock:
            self.delivery.duplicate_next = count

    # --- overview ---------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        with self.lock:
            orders = self.state.orders.values()
            return {
                "balance": fmt(self.state.balance),
                "currency": CURRENCY,
                "tier": self.state.tier,
                "discount": fmt(self.state.discount),
                "products": len(self.catalog),
                "combinations": self.catalog.combination_count(),
                "orders": len(self.state.orders),
                "pendingOrders": sum(1 for order in orders if order.status != "delivered"),
                "ledgerEntries": len(self.state.ledger),
                "webhooks": len(self.state.webhooks),
                "pendingDeliveries": self.delivery.pending(),
                "requests": len(self.requests),
                "peakInFlight": self.peak_in_flight,
                "faults": len(self.faults.active()),
            }
