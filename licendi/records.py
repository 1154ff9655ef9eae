"""Typed, immutable records: everything the rest of the project sees of Licendi.

Nothing outside this package handles raw upstream JSON; `licendi.parsing` turns
JSON into these records. Money is always `Decimal`, datetimes are aware (UTC).

Licence keys and webhook secrets are excluded from `repr()` so that logging a
record, an exception or a task argument can never leak one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from .observations import Rejected

T = TypeVar("T")

KeysStatus = Literal["pending", "partially_delivered", "delivered"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    sku: str
    name: str
    price: Decimal  # public retail price (RRP)
    net_price: Decimal  # what the reseller pays, tier discount applied
    currency: str = "EUR"
    category: str = ""
    brand: str = ""
    platform: str = ""
    has_variants: bool = False
    in_stock: bool = True
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Axis:
    name: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Combination:
    order_sku: str  # "<sku>::<option index per axis joined by '-'>", what an order names
    options: tuple[int, ...]
    price: Decimal
    net_price: Decimal
    in_stock: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductDetail(Product):
    description: str = ""
    axes: tuple[Axis, ...] = ()
    combinations: tuple[Combination, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    page_size: int
    total: int | None  # None when upstream did not say (counts rejected records too)
    # Records of this page that could not be read (lenient listings only).
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    id: str
    type: str  # topup | order | refund | adjustment (others kept as-is)
    amount: Decimal  # signed: debits are negative
    balance_after: Decimal
    created_at: datetime | None = None
    reference: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    balance: Decimal
    currency: str = "EUR"
    tier: str = ""
    discount: Decimal | None = None  # percentage, e.g. Decimal("30.00")
    ledger: tuple[LedgerEntry, ...] = ()  # newest first, at most 20 upstream


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItem:
    sku: str
    qty: int
    unit_price: Decimal
    name: str = ""
    keys: tuple[str, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        # Hand-written so the number of keys stays visible while the keys do not.
        return (
            f"OrderItem(sku={self.sku!r}, qty={self.qty!r}, unit_price={self.unit_price!r}, "
            f"name={self.name!r}, keys=<{len(self.keys)} hidden>)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    id: str
    status: str  # delivered | pending | partially_delivered (others kept as-is)
    total: Decimal | None  # None only when the answer's total could not be read
    currency: str = "EUR"
    external_id: str | None = None
    created_at: datetime | None = None
    invoice_number: str | None = None
    items: tuple[OrderItem, ...] = ()
    # What could not be read in this answer ("items[1].unitPrice is not a decimal
    # amount", ...): the order is real, the reader says what it had to leave out.
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderListing:
    orders: tuple[Order, ...]
    # One reason per listed order that could not be read at all (no id): skipped.
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderResult:
    order: Order
    replayed: bool  # True when upstream answered from its idempotency store
    http_status: int
    # The answer as received (it may hold licence keys: never logged, stored encrypted
    # by callers that keep it).
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveredKey:
    sku: str
    key: str = field(repr=False)
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderKeys:
    status: KeysStatus
    keys: tuple[DeliveredKey, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoint:
    id: str
    url: str
    events: tuple[str, ...] = ()
    created_at: datetime | None = None
    secret: str | None = field(default=None, repr=False)  # only returned at creation


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyAssigned:
    order_id: str
    sku: str
    key: str = field(repr=False)
    external_id: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDelivered:
    order_id: str
    keys: tuple[DeliveredKey, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    id: str
    type: str
    created_at: datetime | None = None
    # Raw dicts (unknown event types) may hold anything, keys included: never in repr.
    data: KeyAssigned | OrderDelivered | dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLineRequest:
    sku: str  # plain sku, or a combination's order_sku for products with variants
    qty: int
