"""Orders against the wallet: delivery states, keys, ledger, refusals, idempotency."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from sandbox import ApiError, Sandbox

from .conftest import Skus, client_for, order

KEY_PATTERN = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")


def assert_ledger_chain(entries: list[dict]) -> None:
    """Oldest to newest, each balanceAfter is the previous one plus the amount."""
    chronological = list(reversed(entries))
    previous = Decimal("0.00")
    for entry in chronological:
        assert Decimal(entry["balanceAfter"]) == previous + Decimal(entry["amount"]), entry
        assert re.fullmatch(r"-?\d+\.\d{2}", entry["amount"])
        previous = Decimal(entry["balanceAfter"])
    ids = [entry["id"] for entry in chronological]
    assert ids == [f"led-{n:06d}" for n in range(1, len(ids) + 1)]


def test_in_stock_order_is_delivered_with_keys(sb: Sandbox, api: httpx.Client, skus: Skus):
    first, second = skus.in_stock()[:2]
    response = order(api, [(first, 2), (second, 1)], "k-1", "PO-2026-001")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "delivered"
    assert re.fullmatch(r"ord-[0-9a-f]{6}", body["id"])
    assert re.fullmatch(r"INV-\d{4}-\d{6}", body["invoice"]["number"])
    assert body["externalId"] == "PO-2026-001" and body["currency"] == "EUR"
    keys = [key for item in body["items"] for key in item["keys"]]
    assert len(keys) == 3 == len(set(keys))
    assert all(KEY_PATTERN.match(key) for key in keys)
    assert not set("01IO").intersection("".join(keys))
    total = sum(Decimal(i["unitPrice"]) * i["qty"] for i in body["items"])
    assert Decimal(body["total"]) == total
    for item, sku in zip(body["items"], (first, second), strict=True):
        product, combo = sb.catalog.resolve(sku)
        assert Decimal(item["unitPrice"]) == (combo or product).net_price


def test_order_debits_wallet_and_writes_the_ledger(sb: Sandbox, api: httpx.Client, skus: Skus):
    body = order(api, [(skus.in_stock()[0], 3)], "k-1", "PO-9").json()
    balance = api.get("/api/balance").json()
    assert Decimal(balance["balance"]) == Decimal("5000.00") - Decimal(body["total"])
    entry = balance["ledger"][0]
    assert entry["type"] == "order" and entry["reference"] == body["id"]
    assert entry["amount"] == f"-{body['total']}"
    assert entry["description"] == f"Order {body['id']} (PO-9)"
    sb.topup(Decimal("100.00"))
    assert_ledger_chain(api.get("/api/balance").json()["ledger"])


def test_balance_shows_the_20_most_recent_entries(sb: Sandbox, api: httpx.Client) -> None:
    for n in range(25):
        sb.topup(Decimal(f"{n + 1}.10"))
    ledger = api.get("/api/balance").json()["ledger"]
    assert len(ledger) == 20
    assert ledger[0]["id"] == "led-000026" and ledger[-1]["id"] == "led-000007"
    assert len(sb.ledger) == 26
    assert_ledger_chain(sb.ledger)


def test_backorder_gives_pending_then_keys_on_release(sb: Sandbox, api: httpx.Client, skus: Skus):
    body = order(api, [(skus.backorder()[0], 2)], "k-1").json()
    assert body["status"] == "pending" and body["items"][0]["keys"] == []
    assert sb.balance == Decimal("5000.00") - Decimal(body["total"])  # paid up front
    keys = api.get(f"/api/orders/{body['id']}/keys")
    assert keys.status_code == 202 and keys.json() == {"status": "pending"}
    assert sb.release_pending() == [body["id"]]
    keys = api.get(f"/api/orders/{body['id']}/keys")
    assert keys.status_code == 200
    assert [k["sku"] for k in keys.json()] == [skus.backorder()[0]] * 2
    assert api.get(f"/api/orders/{body['id']}").json()["status"] == "delivered"
    assert sb.release_pending() == []


def test_mixed_stock_is_partially_delivered(sb: Sandbox, api: httpx.Client, skus: Skus):
    body = order(api, [(skus.in_stock()[0], 1), (skus.backorder()[0], 1)], "k-1").json()
    assert body["status"] == "partially_delivered"
    assert len(body["items"][0]["keys"]) == 1 and body["items"][1]["keys"] == []
    keys = api.get(f"/api/orders/{body['id']}/keys")
    assert keys.status_code == 202
    assert keys.json()["status"] == "partially_delivered"
    assert [k["key"] for k in keys.json()["keys"]] == body["items"][0]["keys"]
    sb.release_pending(body["id"])
    delivered = api.get(f"/api/orders/{body['id']}").json()
    assert delivered["status"] == "delivered"
    assert delivered["items"][0]["keys"] == body["items"][0]["keys"]
    with pytest.raises(KeyError):
        sb.release_pending("ord-000000")


def test_insufficient_balance_is_402_and_charges_nothing(skus: Skus) -> None:
    sb = Sandbox(products=200, seed=1, balance=Decimal("1.00"))
    with client_for(sb) as api:
        response = order(api, [(Skus(sb).in_stock()[0], 5)], "k-1")
        assert response.status_code == 402
        assert response.json()["error"]["code"] == "insufficient_balance"
        assert sb.balance == Decimal("1.00") and len(sb.ledger) == 1 and sb.orders == {}
        # A refused request does not burn its key: after a top-up the retry goes through.
        sb.topup(Decimal("10000.00"))
        assert order(api, [(Skus(sb).in_stock()[0], 5)], "k-1").status_code == 201


def test_unknown_removed_and_variant_plain_skus_are_422(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    variant = next(s for s in sb.product_skus() if sb.catalog.get(s).has_variants)
    removed = next(s for s in sb.order_skus() if "::" not in s)
    sb.remove_product(removed)
    for sku in ("000", variant, f"{variant}::9-9", removed):
        response = order(api, [(sku, 1)], f"k-{sku}")
        assert response.status_code == 422, sku
        assert response.json()["error"]["code"] == "unknown_sku"
    response = order(api, [(skus.sold_out()[0], 1)], "k-sold")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "out_of_stock"
    assert sb.balance == Decimal("5000.00") and sb.orders == {}


def test_stock_changes_apply_to_new_orders(sb: Sandbox, api: httpx.Client, skus: Skus):
    sku = skus.in_stock()[0]
    sb.set_stock(sku, "sold_out")
    assert order(api, [(sku, 1)], "k-1").json()["error"]["code"] == "out_of_stock"
    sb.set_stock(sku, "backorder")
    assert order(api, [(sku, 1)], "k-2").json()["status"] == "pending"


def test_new_price_applies_to_the_next_order(sb: Sandbox, api: httpx.Client, skus: Skus):
    sku = skus.in_stock()[0]
    sb.set_price(sku, net_price=Decimal("7.77"))
    body = order(api, [(sku, 2)], "k-1").json()
    assert body["items"][0]["unitPrice"] == "7.77" and body["total"] == "15.54"


def test_same_key_same_body_replays_without_charging(sb: Sandbox, api: httpx.Client, skus: Skus):
    items = [(skus.in_stock()[0], 2)]
    first = order(api, items, "k-1")
    balance = sb.balance
    again = order(api, items, "k-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert sb.balance == balance and len(sb.orders) == 1
    assert [e["type"] for e in sb.ledger].count("order") == 1


def test_same_key_other_body_is_422(sb: Sandbox, api: httpx.Client, skus: Skus) -> None:
    assert order(api, [(skus.in_stock()[0], 1)], "k-1").status_code == 201
    response = order(api, [(skus.in_stock()[0], 2)], "k-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    other_external = order(api, [(skus.in_stock()[0], 1)], "k-1", external_id="PO-other")
    assert other_external.json()["error"]["code"] == "idempotency_key_reused"
    assert len(sb.orders) == 1


def test_same_key_while_the_first_is_running_is_409(sb: Sandbox, skus: Skus) -> None:
    # A "during" latency fault holds the first request after it claimed its key.
    hold = sb.faults.inject(
        method="POST", path="/api/orders", kind="latency", seconds=1.5, when="during"
    )
    items = [(skus.in_stock()[0], 1)]
    results: dict[str, httpx.Response] = {}

    def first() -> None:
        with client_for(sb) as client:
            results["first"] = order(client, items, "k-1")

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 5
    while hold.hits == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    with client_for(sb) as client:
        second = order(client, items, "k-1")
    thread.join()
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "request_in_progress"
    assert results["first"].status_code == 201
    assert len(sb.orders) == 1
    with client_for(sb) as client:
        assert order(client, items, "k-1").status_code == 200


def test_timeout_after_processes_once_and_the_retry_replays(
    sb: Sandbox, api: httpx.Client, skus: Skus
) -> None:
    sb.faults.inject(method="POST", path="/api/orders", kind="timeout_after")
    items = [(skus.in_stock()[0], 1)]
    with pytest.raises(httpx.ReadTimeout):
        order(api, items, "k-1")
    assert len(sb.orders) == 1
    balance = sb.balance
    retry = order(api, items, "k-1")
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] in sb.orders
    assert sb.balance == balance


@pytest.mark.parametrize(
    ("kind", "exception"), [("drop", httpx.RemoteProtocolError), ("timeout", httpx.ReadTimeout)]
)
def test_drop_and_timeout_happen_before_processing(
    sb: Sandbox, api: httpx.Client, skus: Skus, kind: str, exception: type[Exception]
) -> None:
    sb.faults.inject(method="POST", path="/api/orders", kind=kind)
    with pytest.raises(exception):
        order(api, [(skus.in_stock()[0], 1)], "k-1")
    assert sb.orders == {} and sb.balance == Decimal("5000.00")
    assert order(api, [(skus.in_stock()[0], 1)], "k-1").status_code == 201


def test_status_and_rate_limit_faults(sb: Sandbox, api: httpx.Client) -> None:
    sb.faults.inject(method="GET", path="/api/products/*", kind="status", status=503, times=2)
    sku = sb.product_skus()[0]
    for _ in range(2):
        response = api.get(f"/api/products/{sku}")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "service_unavailable"
    assert api.get(f"/api/products/{sku}").status_code == 200
    assert api.get("/api/products").status_code == 200  # the prefix needs the slash
    sb.faults.inject(path="/api/balance", kind="rate_limit", retry_after=7, times=None)
    for _ in range(3):
        response = api.get("/api/balance")
        assert response.status_code == 429 and response.headers["Retry-After"] == "7"
        assert response.json()["error"]["code"] == "rate_limited"
    sb.faults.clear()
    assert api.get("/api/balance").status_code == 200


def test_latency_fault_delays_then_serves(sb: Sandbox, api: httpx.Client) -> None:
    sb.faults.inject(method="GET", path="/api/balance", kind="latency", seconds=0.2)
    started = time.perf_counter()
    assert api.get("/api/balance").status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_fault_arguments_are_checked(sb: Sandbox) -> None:
    for bad in (
        {"kind": "explode"},
        {"kind": "status", "status": 200},
        {"kind": "drop", "when": "during"},
        {"kind": "latency", "times": 0},
    ):
        with pytest.raises(ValueError):
            sb.faults.inject(path="/api/orders", **bad)  # type: ignore[arg-type]


def test_requests_are_recorded_for_call_counting(sb: Sandbox, api: httpx.Client) -> None:
    api.get("/api/products", params={"page": 2})
    api.get("/api/balance")
    api.get("/_sandbox/state")  # the control plane is not counted
    assert sb.requests == [("GET", "/api/products?page=2"), ("GET", "/api/balance")]
    sb.requests.clear()
    assert sb.requests == []


def test_orders_list_newest_first_without_keys(sb: Sandbox, api: httpx.Client, skus: Skus):
    ids = [order(api, [(skus.in_stock()[n], 1)], f"k-{n}").json()["id"] for n in range(4)]
    body = api.get("/api/orders").json()
    assert [o["id"] for o in body["items"]] == list(reversed(ids))
    assert body["total"] == 4 and body["pageSize"] == 50
    assert all("keys" not in item for o in body["items"] for item in o["items"])
    limited = api.get("/api/orders", params={"limit": 2}).json()
    assert [o["id"] for o in limited["items"]] == list(reversed(ids))[:2]
    assert api.get("/api/orders", params={"limit": 200}).json()["pageSize"] == 200
    assert api.get("/api/orders", params={"limit": 1000}).status_code == 400
    detail = api.get(f"/api/orders/{ids[0]}").json()
    assert detail["invoice"]["number"].startswith("INV-") and detail["items"][0]["keys"]
    assert api.get("/api/orders/ord-nope").status_code == 404
    assert api.get("/api/orders/ord-nope/keys").status_code == 404


def test_dashboard_order_debits_the_wallet_and_is_listed(sb: Sandbox, api: httpx.Client, skus):
    placed = sb.place_order(items=[(skus.in_stock()[0], 1)], external_id="DASH-1")
    assert placed["status"] == "delivered"
    assert sb.balance == Decimal("5000.00") - Decimal(placed["total"])
    assert api.get("/api/orders").json()["items"][0]["id"] == placed["id"]
    assert sb.orders[placed["id"]]["items"][0]["keys"] == placed["items"][0]["keys"]
    with pytest.raises(ApiError) as refused:
        sb.place_order(items=[("nope", 1)])
    assert refused.value.status == 422 and refused.value.code == "unknown_sku"


def test_keys_are_never_repeated(sb: Sandbox, skus: Skus) -> None:
    sb.topup(Decimal("100000.00"))
    keys: list[str] = []
    for sku in skus.in_stock()[:30]:
        placed = sb.place_order(items=[(sku, 20)])
        keys.extend(key for item in placed["items"] for key in item["keys"])
    assert len(keys) == len(set(keys)) == 600


def test_an_idempotency_key_expires_after_24_hours(sb: Sandbox, api: httpx.Client, skus: Skus):
    items = [(skus.in_stock()[0], 1)]
    first = order(api, items, "k-1").json()
    record = sb.state._idempotency["k-1"]
    record.created_at -= timedelta(hours=24, seconds=1)
    second = order(api, items, "k-1")
    assert second.status_code == 201 and second.json()["id"] != first["id"]


def test_random_faults_and_base_latency_from_the_command_line_options() -> None:
    noisy = Sandbox(products=20, fail_rate=0.5, rate_limit_rate=0.2, latency_ms=10)
    with client_for(noisy) as api:
        started = time.perf_counter()
        statuses = [api.get("/api/balance").status_code for _ in range(60)]
        assert time.perf_counter() - started >= 0.6
    assert {200, 429} <= set(statuses) and any(s >= 500 for s in statuses)
    assert all(s in (200, 429, 500, 502, 503) for s in statuses)


def test_concurrent_orders_keep_the_wallet_consistent(sb: Sandbox, skus: Skus) -> None:
    sku = skus.in_stock()[0]
    statuses: list[int] = []

    def place(n: int) -> None:
        with client_for(sb) as client:
            # Pairs of threads share a key: one creates, the other replays or sees 409.
            statuses.append(order(client, [(sku, 1)], f"k-{n // 2}").status_code)

    threads = [threading.Thread(target=place, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) == len(sb.orders) == 20
    assert set(statuses) <= {200, 201, 409}
    assert_ledger_chain(sb.ledger)
    unit = Decimal(next(iter(sb.orders.values()))["total"])
    assert sb.balance == Decimal("5000.00") - 20 * unit
