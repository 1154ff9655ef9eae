"""The /_sandbox/ control plane: the Python interface's actions over HTTP."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import httpx
import pytest

from sandbox import Sandbox

from .conftest import Skus, order


def test_topup(sb: Sandbox, api: httpx.Client) -> None:
    response = api.post("/_sandbox/topup", json={"amount": "250.50"})
    assert response.status_code == 201
    assert response.json()["type"] == "topup" and response.json()["amount"] == "250.50"
    assert sb.balance == Decimal("5250.50")
    for bad in ("-1", "0", "1.234", "abc", None, True):
        reply = api.post("/_sandbox/topup", json={"amount": bad})
        assert reply.status_code == 422, bad
        assert reply.json()["error"]["code"] == "invalid_amount"


def test_prices_and_shuffle(sb: Sandbox, api: httpx.Client) -> None:
    sku = sb.order_skus()[0]
    response = api.post("/_sandbox/prices", json={"sku": sku, "netPrice": "3.21"})
    assert response.status_code == 200
    product, combo = sb.catalog.resolve(sku)
    assert (combo or product).net_price == Decimal("3.21")
    assert api.post("/_sandbox/prices", json={"sku": "nope", "price": 1}).status_code == 404
    assert api.post("/_sandbox/prices", json={"sku": sku}).status_code == 400
    assert api.post("/_sandbox/prices", json={"sku": sku, "price": "x"}).status_code == 422
    shuffled = api.post("/_sandbox/prices/shuffle", json={"fraction": 0.05, "seed": 3}).json()
    assert shuffled["count"] == len(shuffled["changed"]) > 0
    assert api.post("/_sandbox/prices/shuffle", json={"fraction": 2}).status_code == 400


def test_stock_remove_and_dashboard_order(sb: Sandbox, api: httpx.Client, skus: Skus) -> None:
    sku = skus.in_stock()[0]
    assert api.post("/_sandbox/stock", json={"sku": sku, "state": "sold_out"}).status_code == 200
    assert order(api, [(sku, 1)], "k-1").json()["error"]["code"] == "out_of_stock"
    bad = api.post("/_sandbox/stock", json={"sku": sku, "state": "gone"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_stock_state"
    plain = next(s for s in skus.in_stock() if "::" not in s)
    assert api.post(f"/_sandbox/products/{plain}/remove").status_code == 200
    assert api.post(f"/_sandbox/products/{plain}/remove").status_code == 404
    placed = api.post("/_sandbox/orders", json={"items": [{"sku": skus.backorder()[0], "qty": 1}]})
    assert placed.status_code == 201 and placed.json()["status"] == "pending"
    released = api.post("/_sandbox/release", json={"orderId": placed.json()["id"]})
    assert released.json() == {"released": [placed.json()["id"]]}
    assert api.post("/_sandbox/release").json() == {"released": []}
    assert api.post("/_sandbox/release", json={"orderId": "ord-xxxxxx"}).status_code == 404


def test_faults_over_http(sb: Sandbox, api: httpx.Client) -> None:
    created = api.post(
        "/_sandbox/faults",
        json={"method": "GET", "path": "/api/balance", "kind": "status", "status": 502},
    )
    assert created.status_code == 201 and created.json()["times"] == 1
    assert len(api.get("/_sandbox/faults").json()) == 1
    assert api.get("/api/balance").status_code == 502
    assert api.get("/api/balance").status_code == 200
    api.post("/_sandbox/faults", json={"path": "/api/*", "kind": "rate_limit", "times": None})
    assert api.get("/api/products").status_code == 429
    assert api.get("/_sandbox/state").status_code == 200  # control is never faulted
    assert api.delete("/_sandbox/faults").status_code == 204
    assert api.get("/api/products").status_code == 200
    for bad in (
        {"path": "/api/x", "kind": "nope"},
        {"kind": "status"},
        {"path": "/api/x", "kind": "status", "status": "500"},
        {"path": "/api/x", "kind": "status", "times": 0},
        {"path": "api/x", "kind": "drop"},
    ):
        reply = api.post("/_sandbox/faults", json=bad)
        assert reply.status_code == 422, bad
        assert reply.json()["error"]["code"] == "invalid_fault"


def test_state_requests_and_deliveries(sb: Sandbox, api: httpx.Client, skus: Skus) -> None:
    order(api, [(skus.in_stock()[0], 1)], "k-1")
    state = api.get("/_sandbox/state").json()
    assert state["products"] == 200 and state["orders"] == 1
    assert Decimal(state["balance"]) == sb.balance
    requests = api.get("/_sandbox/requests", params={"clear": "1"}).json()
    assert requests["requests"] == [{"method": "POST", "path": "/api/orders"}]
    assert api.get("/_sandbox/requests").json()["count"] == 0
    calls: list[str] = []
    sb.webhook_sender = lambda url, headers, body: calls.append(url) or 200
    api.post("/api/webhooks", json={"url": "http://h.test/x", "events": ["order.delivered"]})
    assert api.post("/_sandbox/deliveries/duplicate", json={"count": 1}).status_code == 200
    order(api, [(skus.in_stock()[1], 1)], "k-2")
    assert api.post("/_sandbox/deliver").json() == {"delivered": 1}
    assert len(calls) == 2
    assert len(api.get("/_sandbox/deliveries").json()["attempts"]) == 2


@pytest.mark.parametrize("path", ["/_sandbox/topup", "/_sandbox/orders", "/_sandbox/faults"])
def test_control_bodies_are_validated(api: httpx.Client, path: str) -> None:
    response = api.post(path, content=b"{oops", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_adjustments_and_refunds_extend_the_ledger_chain(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    placed = order(api, [(skus.in_stock()[0], 2)], "k-1").json()
    adjusted = api.post("/_sandbox/adjust", json={"amount": "-1.50", "description": "Fee"})
    assert adjusted.status_code == 201 and adjusted.json()["type"] == "adjustment"
    refunded = api.post("/_sandbox/refund", json={"orderId": placed["id"]})
    assert refunded.status_code == 201
    assert refunded.json()["type"] == "refund" and refunded.json()["amount"] == placed["total"]
    assert refunded.json()["reference"] == placed["id"]
    assert sb.balance == Decimal("4998.50")
    too_much = api.post("/_sandbox/refund", json={"orderId": placed["id"], "amount": "99999"})
    assert too_much.status_code == 422
    assert api.post("/_sandbox/refund", json={"orderId": "ord-none"}).status_code == 404
    assert api.post("/_sandbox/adjust", json={"amount": "0"}).status_code == 422
    chain = list(reversed(api.get("/api/balance").json()["ledger"]))
    for before, after in pairwise(chain):
        expected = Decimal(before["balanceAfter"]) + Decimal(after["amount"])
        assert Decimal(after["balanceAfter"]) == expected
