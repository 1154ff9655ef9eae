"""The first slice: products, balance and an order round trip."""

from __future__ import annotations

from decimal import Decimal

import httpx

from sandbox import Sandbox

from .conftest import Skus, order


def test_products_page_and_detail(api: httpx.Client) -> None:
    body = api.get("/api/products").json()
    assert body["page"] == 1 and body["pageSize"] == 100 and body["total"] == 200
    assert len(body["items"]) == 100
    detail = api.get(f"/api/products/{body['items'][0]['sku']}").json()
    assert detail["sku"] == body["items"][0]["sku"]


def test_balance_starts_with_opening_entry(api: httpx.Client) -> None:
    body = api.get("/api/balance").json()
    assert body["balance"] == "5000.00"
    assert body["ledger"][0]["id"] == "led-000001"


def test_order_in_stock_is_delivered_and_debited(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    sku = skus.in_stock()[0]
    response = order(api, [(sku, 2)], "key-1")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "delivered"
    assert len(body["items"][0]["keys"]) == 2
    assert sb.balance == Decimal("5000.00") - Decimal(body["total"])
