"""Request and answer shapes of the channel API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema
from pydantic import BaseModel

from .services.fulfilments import FulfilmentRequest, LineRequest


class ErrorDetail(Schema):
    code: str = Field(description="Stable error code (see the API description)")
    message: str


class ErrorOut(Schema):
    error: ErrorDetail


class OffersQuery(Schema):
    since: str | None = Field(
        None, max_length=200, description="A `nextCursor` (or an offer's `cursor`) from earlier"
    )
    limit: int = Field(1000, ge=1, le=5000, description="Offers per page")


# The feed's shapes are plain pydantic models: ninja's Schema reads attributes through a
# Django-aware getter per field, which costs more than the rest of a 5,000-offer page.
class OfferOut(BaseModel):
    sku: str = Field(description="The orderSku to fulfil")
    productSku: str
    name: str
    price: Decimal | None = Field(description="Selling price; null when not available")
    currency: str
    inStock: bool
    available: bool = Field(description="False: remove it from the shop (vanished or not offered)")
    cursor: str = Field(description="The change cursor of this offer")


class OffersOut(BaseModel):
    offers: list[OfferOut]
    nextCursor: str
    hasMore: bool


class CustomerIn(Schema):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)


class LineIn(Schema):
    orderSku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=100)
    price: Decimal = Field(ge=0, max_digits=12, decimal_places=2, description="Unit price paid")


class FulfilmentIn(Schema):
    orderId: str = Field(min_length=1, max_length=100, description="The shop's order id")
    currency: str = Field("EUR", min_length=3, max_length=3)
    customer: CustomerIn
    lines: list[LineIn] = Field(min_length=1, max_length=50)

    def to_request(self) -> FulfilmentRequest:
        return FulfilmentRequest(
            shop_order_id=self.orderId.strip(),
            customer_email=self.customer.email.strip(),
            customer_name=self.customer.name.strip(),
            currency=self.currency.upper(),
            lines=tuple(
                LineRequest(
                    order_sku=line.orderSku.strip(), quantity=line.quantity, unit_price=line.price
                )
                for line in self.lines
            ),
        )


class CustomerOut(Schema):
    email: str
    name: str


class LineOut(Schema):
    sku: str
    quantity: int
    price: Decimal
    fromStock: int


class KeyOut(Schema):
    sku: str
    key: str


class FulfilmentOut(Schema):
    id: int
    orderId: str
    state: str = Field(description="pending, awaiting_approval, delivered or failed")
    url: str
    customer: CustomerOut
    lines: list[LineOut]
    keys: list[KeyOut] = Field(description="Filled once the fulfilment is final")
    error: ErrorDetail | None = None
    createdAt: datetime
    deliveredAt: datetime | None = None
