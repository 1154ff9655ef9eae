"""The supplier's books: wallet and ledger, orders and keys, idempotency, webhooks.

Pure logic with no HTTP: the WSGI layer and the Python interface both call these
methods. Every mutation happens under the one lock the :class:`~sandbox.Sandbox`
owns (re-entrant, because a control action may call another).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from . import ids
from .catalog import IN_STOCK, Catalog
from .errors import ApiError
from .money import CENT, CURRENCY, fmt, iso, utcnow

LEDGER_TYPES = ("topup", "order", "refund", "adjustment")
WEBHOOK_EVENTS = ("order.delivered", "key.assigned")
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_QTY = 100
MAX_LINES = 100

EventSink = Callable[[dict[str, Any]], None]


@dataclass(slots=True)
class LedgerEntry:
    id: str
    created_at: datetime
    type: str
    amount: Decimal
    balance_after: Decimal
    reference: str | None
    description: str

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": iso(self.created_at),
            "type": self.type,
            "amount": fmt(self.amount),
            "balanceAfter": fmt(self.balance_after),
            "reference": self.reference,
            "description": self.description,
        }


@dataclass(slots=True)
class OrderLine:
    sku: str
    name: str
    qty: int
    unit_price: Decimal
    keys: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.qty - len(self.keys)

    def to_api(self, *, with_keys: bool) -> dict[str, Any]:
        line: dict[str, Any] = {
            "sku": self.sku,
            "name": self.name,
            "qty": self.qty,
            "unitPrice": fmt(self.unit_price),
        }
        if with_keys:
            line["keys"] = list(self.keys)
        return line


@dataclass(slots=True)
class Order:
    id: str
    external_id: str | None
    created_at: datetime
    total: Decimal
    invoice_number: str
    lines: list[OrderLine]
    source: str  # "api" or "dashboard": orders placed outside the back-office

    @property
    def status(self) -> str:
        delivered = sum(len(line.keys) for line in self.lines)
        if delivered == 0:
            return "pending"
        if all(line.missing == 0 for line in self.lines):
            return "delivered"
        return "partially_delivered"

    def flat_keys(self) -> list[dict[str, str]]:
        return [
            {"sku": line.sku, "name": line.name, "key": key}
            for line in self.lines
            for key in line.keys
        ]

    def to_api(self, *, with_keys: bool = True) -> dict[str, Any]:
        return {
            "id": self.id,
            "externalId": self.external_id,
            "status": self.status,
            "createdAt": iso(self.created_at),
            "total": fmt(self.total),
            "currency": CURRENCY,
            "invoice": {"number": self.invoice_number},
            "items": [line.to_api(with_keys=with_keys) for line in self.lines],
        }


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime

    def to_api(self, *, with_secret: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "createdAt": iso(self.created_at),
        }
        if with_secret:
            body["secret"] = self.secret
        return body


@dataclass(slots=True)
class _IdempotencyRecord:
    fingerprint: str
    created_at: datetime
    order_id: str | None = None  # None while the first request is still running


def order_fingerprint(items: list[tuple[str, int]], external_id: str | None) -> str:
    """What "the same body" means for idempotency: the same lines and externalId."""
    return json.dumps({"items": items, "externalId": external_id}, separators=(",", ":"))


class SupplierState:
    """Wallet, orders, idempotency keys and webhook endpoints of one reseller account."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        lock: threading.RLock,
        balance: Decimal,
        tier: str,
        discount: Decimal,
        on_event: EventSink,
    ) -> None:
        self.catalog = catalog
        self.lock = lock
        self.tier = tier
        self.discount = discount
        self.balance = Decimal("0.00")
        self.ledger: list[LedgerEntry] = []  # oldest first; the API shows newest first
        self.orders: dict[str, Order] = {}  # insertion order = creation order
        self.webhooks: dict[str, WebhookEndpoint] = {}
        self._issued_keys: set[str] = set()
        self._idempotency: dict[str, _IdempotencyRecord] = {}
        self._invoice_seq = 0
        self._on_event = on_event
        if balance:
            # The opening balance is a ledger entry so the balanceAfter chain holds
            # from the very first entry a back-office sees.
            self.post_ledger("topup", balance, None, "Opening balance")

    # --- wallet ---------------------------------------------------------------------

    def post_ledger(
        self, kind: str, amount: Decimal, reference: str | None, description: str
    ) -> LedgerEntry:
        if kind not in LEDGER_TYPES:
            raise ValueError(f"ledger type must be one of {LEDGER_TYPES}")
        with self.lock:
            amount = amount.quantize(CENT)
            self.balance = (self.balance + amount).quantize(CENT)
            entry = LedgerEntry(
                id=f"led-{len(self.ledger) + 1:06d}",
                created_at=utcnow(),
                type=kind,
                amount=amount,
                balance_after=self.balance,
                reference=reference,
                description=description,
            )
            self.ledger.append(entry)
            return entry

    def topup(self, amount: Decimal) -> LedgerEntry:
        if amount <= 0:
            raise ApiError(422, "invalid_amount", "A top-up amount must be positive.")
        return self.post_ledger("topup", amount, None, "Wallet top-up")

    def balance_view(self, *, recent: int = 20) -> dict[str, Any]:
        with self.lock:
            return {
                "balance": fmt(self.balance),
                "currency": CURRENCY,
                "tier": self.tier,
                "discount": fmt(self.discount),
                "ledger": [entry.to_api() for entry in reversed(self.ledger[-recent:])],
            }

    # --- orders ---------------------------------------------------------------------

    def place_order(
        self,
        *,
        items: list[tuple[str, int]],
        external_id: str | None,
        idempotency_key: str | None = None,
        hold: Callable[[], None] | None = None,
        source: str = "api",
    ) -> tuple[Order, bool]:
        """Create an order, or return the one already made for this idempotency key.

        Returns ``(order, replayed)``. The key is claimed under the lock, then
        ``hold`` runs *outside* it (this is where a "during" latency fault sleeps),
        then the order is created. A second request with the same key arriving while
        the first is held is answered 409 ``request_in_progress``. A refused request
        (402, 422) releases its key, so the same key can be retried after a top-up.
        """
        validate_items(items)
        if idempotency_key is None:
            if hold is not None:
                hold()
            with self.lock:
                return self._create_order(items, external_id, source), False
        fingerprint = order_fingerprint(items, external_id)
        with self.lock:
            record = self._idempotency.get(idempotency_key)
            if record is not None and utcnow() - record.created_at > IDEMPOTENCY_TTL:
                record = None
            if record is not None:
                if record.fingerprint != fingerprint:
                    raise ApiError(
                        422,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used with a different request body.",
                    )
                if record.order_id is None:
                    raise ApiError(
                        409,
                        "request_in_progress",
                        "A request with this Idempotency-Key is still being processed.",
                    )
                return self.orders[record.order_id], True
            record = _IdempotencyRecord(fingerprint=fingerprint, created_at=utcnow())
            self._idempotency[idempotency_key] = record
        try:
            if hold is not None:
                hold()
            with self.lock:
                order = self._create_order(items, external_id, source)
                record.order_id = order.id
                return order, False
        except BaseException:
            with self.lock:
                if self._idempotency.get(idempotency_key) is record:
                    del self._idempotency[idempotency_key]
            raise

    def _create_order(
        self, items: list[tuple[str, int]], external_id: str | None, source: str
    ) -> Order:
        resolved = [(sku, qty, *self.catalog.orderable(sku)) for sku, qty in items]
        lines: list[tuple[OrderLine, bool]] = []
        total = Decimal("0.00")
        for sku, qty, product, combo in resolved:
            unit = combo.net_price if combo is not None else product.net_price
            name = combo.name if combo is not None else product.name
            stock = combo.stock if combo is not None else product.stock
            total += unit * qty
            lines.append(
                (OrderLine(sku=sku, name=name, qty=qty, unit_price=unit), stock == IN_STOCK)
            )
        total = total.quantize(CENT)
        if total > self.balance:
            raise ApiError(
                402,
                "insufficient_balance",
                f"Order total {fmt(total)} EUR exceeds the wallet balance {fmt(self.balance)} EUR.",
            )
        now = utcnow()
        self._invoice_seq += 1
        order = Order(
            id=ids.unique(ids.order_id, self.orders),
            external_id=external_id,
            created_at=now,
            total=total,
            invoice_number=f"INV-{now.year}-{self._invoice_seq:06d}",
            lines=[line for line, _ in lines],
            source=source,
        )
        for line, in_stock in lines:
            if in_stock:
                line.keys.extend(self._new_key() for _ in range(line.qty))
        self.orders[order.id] = order
        description = f"Order {order.id} ({external_id})" if external_id else f"Order {order.id}"
        self.post_ledger("order", -total, order.id, description)
        if order.status == "delivered":
            self._emit_delivered(order)
        return order

    def _new_key(self) -> str:
        key = ids.unique(ids.licence_key, self._issued_keys)
        self._issued_keys.add(key)
        return key

    def release_pending(self, order_id: str | None = None) -> list[str]:
        """Deliver every missing key (of one order or all); returns the orders completed."""
        with self.lock:
            if order_id is not None:
                if order_id not in self.orders:
                    raise KeyError(order_id)
                candidates = [self.orders[order_id]]
            else:
                candidates = list(self.orders.values())
            released: list[str] = []
            for order in candidates:
                if order.status == "delivered":
                    continue
                for line in order.lines:
                    for _ in range(line.missing):
                        key = self._new_key()
                        line.keys.append(key)
                        self._emit(
                            "key.assigned",
                            {
                                "orderId": order.id,
                                "externalId": order.external_id,
                                "sku": line.sku,
                                "name": line.name,
                                "key": key,
                            },
                        )
                self._emit_delivered(order)
                released.append(order.id)
            return released

    def list_orders(self, *, page: int, limit: int) -> tuple[list[Order], int]:
        with self.lock:
            newest_first = list(reversed(self.orders.values()))
        start = (page - 1) * limit
        return newest_first[start : start + limit], len(newest_first)

    # --- events ---------------------------------------------------------------------

    def _emit_delivered(self, order: Order) -> None:
        self._emit(
            "order.delivered",
            {"orderId": order.id, "externalId": order.external_id, "keys": order.flat_keys()},
        )

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        self._on_event(
            {"id": ids.event_id(), "type": kind, "createdAt": iso(utcnow()), "data": data}
        )

    # --- webhook endpoints ----------------------------------------------------------

    def add_webhook(self, url: object, events: object) -> WebhookEndpoint:
        if not isinstance(url, str) or not url:
            raise ApiError(422, "invalid_webhook", "url must be a non-empty string.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(422, "invalid_webhook", "url must be an absolute http(s) URL.")
        if not isinstance(events, list) or not events:
            raise ApiError(
                422,
                "invalid_webhook",
                f"events must be a non-empty list drawn from {', '.join(WEBHOOK_EVENTS)}.",
            )
        unknown = [e for e in events if not isinstance(e, str) or e not in WEBHOOK_EVENTS]
        if unknown:
            raise ApiError(
                422,
                "invalid_webhook",
                f"Unknown events {unknown!r}; known: {', '.join(WEBHOOK_EVENTS)}.",
            )
        with self.lock:
            endpoint = WebhookEndpoint(
                id=ids.unique(ids.webhook_id, self.webhooks),
                url=url,
                events=tuple(dict.fromkeys(events)),
                secret=ids.webhook_secret(),
                created_at=utcnow(),
            )
            self.webhooks[endpoint.id] = endpoint
            return endpoint

    def delete_webhook(self, webhook_id: str) -> None:
        with self.lock:
            if self.webhooks.pop(webhook_id, None) is None:
                raise ApiError(404, "not_found", f"No webhook endpoint {webhook_id!r}.")


def validate_items(items: list[tuple[str, int]]) -> None:
    """Shape checks shared by the API and the Python interface (before any charge)."""
    if not items:
        raise ApiError(400, "invalid_request", "items must be a non-empty list.")
    if len(items) > MAX_LINES:
        raise ApiError(400, "invalid_request", f"An order has at most {MAX_LINES} lines.")
    for sku, qty in items:
        if not isinstance(sku, str) or not sku:
            raise ApiError(400, "invalid_request", "Each item needs a non-empty string sku.")
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QTY:
            raise ApiError(
                422,
                "invalid_quantity",
                f"qty for {sku} must be an integer from 1 to {MAX_QTY}, got {qty!r}.",
            )
