from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from licendi import (
    DeliveredKey,
    KeyAssigned,
    Order,
    OrderDelivered,
    OrderItem,
    OrderKeys,
    OrderResult,
    WebhookEndpoint,
    WebhookEvent,
)

KEY = "ABCDE-SECRET-LICENCE"
SECRET = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"


def test_records_holding_keys_or_secrets_never_show_them_in_repr() -> None:
    item = OrderItem(sku="1", qty=2, unit_price=Decimal("1"), keys=(KEY, KEY))
    delivered = DeliveredKey(sku="1", key=KEY)
    holders = [
        item,
        Order(id="o", status="delivered", total=Decimal("2"), items=(item,)),
        OrderResult(
            order=Order(id="o", status="delivered", total=Decimal("2"), items=(item,)),
            replayed=False,
            http_status=201,
        ),
        delivered,
        OrderKeys(status="delivered", keys=(delivered,)),
        KeyAssigned(order_id="o", sku="1", key=KEY),
        OrderDelivered(order_id="o", keys=(delivered,)),
        WebhookEvent(id="e", type="x.unknown", data={"key": KEY}),
        WebhookEndpoint(id="w", url="https://x", secret=SECRET),
    ]
    for holder in holders:
        assert KEY not in repr(holder)
        assert KEY not in str(holder)
        assert SECRET not in repr(holder)


def test_order_item_repr_still_says_how_many_keys() -> None:
    item = OrderItem(sku="1", qty=2, unit_price=Decimal("1"), keys=(KEY, KEY))

    assert "<2 hidden>" in repr(item)


def test_records_are_frozen() -> None:
    item = OrderItem(sku="1", qty=1, unit_price=Decimal("1"))

    with pytest.raises(dataclasses.FrozenInstanceError):
        item.qty = 2  # type: ignore[misc]
