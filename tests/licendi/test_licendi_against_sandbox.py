"""The client against the in-process sandbox: the whole contract, end to end over httpx."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from licendi import (
    AdaptiveLimiter,
    AuthenticationFailed,
    ContractError,
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidQuantity,
    LicendiClient,
    NotFound,
    OrderDelivered,
    OrderLineRequest,
    OutOfStock,
    RequestInProgress,
    ServerError,
    UnknownSku,
    WebhookVerifier,
    contract_drift,
    is_definite_refusal,
)
from licendi.webhooks import parse_event
from sandbox import Sandbox

BASE_URL = "http://sandbox.test"
API_KEY = "sandbox-key"


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(products=200, seed=1, api_key=API_KEY)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sb: Sandbox, sleeps: list[float]) -> Iterator[LicendiClient]:
    with LicendiClient(
        BASE_URL, API_KEY, transport=sb.transport(), sleep=sleeps.append, rng=lambda: 0.5
    ) as licendi:
        yield licendi


def plain_sku(sb: Sandbox, index: int = 0) -> str:
    """An in-stock product without variants."""
    sku = [s for s in sb.order_skus() if "::" not in s][index]
    sb.set_stock(sku, "in_stock")
    return sku


def combination_sku(sb: Sandbox) -> str:
    sku = next(s for s in sb.order_skus() if "::" in s)
    sb.set_stock(sku, "in_stock")
    return sku


def order_debits(sb: Sandbox) -> list[dict[str, str]]:
    return [entry for entry in sb.ledger if entry["type"] == "order"]


def order_posts(sb: Sandbox) -> int:
    return sum(1 for method, path in sb.requests if (method, path) == ("POST", "/api/orders"))


# ---------------------------------------------------------------- catalog


def test_paging_through_all_products(client: LicendiClient, sb: Sandbox) -> None:
    pages = list(client.iter_product_pages(page_size=50))

    skus = [product.sku for page in pages for product in page.items]
    assert len(pages) == 4
    assert sorted(skus) == sorted(sb.product_skus())
    assert len(set(skus)) == 200
    assert all(isinstance(p.net_price, Decimal) for page in pages for p in page.items)


def test_category_filter_returns_only_that_category(client: LicendiClient) -> None:
    category = client.list_products(page_size=10).items[0].category
    page = client.list_products(page_size=500, category=category)

    assert page.items
    assert {product.category for product in page.items} == {category}


def test_variant_product_detail_has_axes_and_combinations(client: LicendiClient) -> None:
    listed = next(
        product
        for page in client.iter_product_pages(page_size=500)
        for product in page.items
        if product.has_variants
    )
    detail = client.get_product(listed.sku)

    assert detail.axes
    assert detail.combinations
    for combination in detail.combinations:
        assert combination.order_sku.startswith(f"{detail.sku}::")
        assert len(combination.options) == len(detail.axes)
        for axis, option in zip(detail.axes, combination.options, strict=True):
            assert 0 <= option < len(axis.options)
        assert combination.order_sku.split("::")[1] == "-".join(map(str, combination.options))


def test_plain_product_detail_has_no_axes(client: LicendiClient, sb: Sandbox) -> None:
    detail = client.get_product(plain_sku(sb))

    assert detail.has_variants is False
    assert detail.axes == ()
    assert detail.combinations == ()


def test_unknown_product_is_not_found(client: LicendiClient) -> None:
    with pytest.raises(NotFound):
        client.get_product("no-such-sku")


def test_path_traversal_sku_stays_inside_the_product_route(
    client: LicendiClient, sb: Sandbox
) -> None:
    with pytest.raises(NotFound):
        client.get_product("../balance")

    assert ("GET", "/api/balance") not in sb.requests


# ---------------------------------------------------------------- errors


def test_bad_api_key_is_authentication_failed(sb: Sandbox) -> None:
    with (
        LicendiClient(BASE_URL, "wrong-key", transport=sb.transport(), sleep=lambda s: None) as bad,
        pytest.raises(AuthenticationFailed) as caught,
    ):
        bad.get_balance()

    assert caught.value.code == "invalid_api_key"
    assert "wrong-key" not in str(caught.value)


def test_insufficient_balance_is_a_definite_refusal_and_charges_nothing(
    sleeps: list[float],
) -> None:
    poor = Sandbox(products=20, seed=1, api_key=API_KEY, balance=Decimal("0.01"))
    sku = plain_sku(poor)
    with (
        LicendiClient(BASE_URL, API_KEY, transport=poor.transport(), sleep=sleeps.append) as c,
        pytest.raises(InsufficientBalance) as caught,
    ):
        c.create_order(
            items=[OrderLineRequest(sku=sku, qty=1)],
            external_id="PO-poor",
            idempotency_key="k-poor",
        )

    assert caught.value.status == 402
    assert is_definite_refusal(caught.value)
    assert poor.balance == Decimal("0.01")
    assert order_posts(poor) == 1


def test_unknown_order_is_not_found(client: LicendiClient) -> None:
    with pytest.raises(NotFound):
        client.get_order("ord-missing")
    with pytest.raises(NotFound):
        client.get_order_keys("ord-missing")


def test_unknown_sku_is_refused(client: LicendiClient) -> None:
    with pytest.raises(UnknownSku):
        client.create_order(
            items=[OrderLineRequest(sku="99999999", qty=1)],
            external_id="PO-1",
            idempotency_key="k1",
        )


def test_sold_out_is_refused(client: LicendiClient, sb: Sandbox) -> None:
    sku = plain_sku(sb)
    sb.set_stock(sku, "sold_out")

    with pytest.raises(OutOfStock):
        client.create_order(
            items=[OrderLineRequest(sku=sku, qty=1)], external_id="PO-1", idempotency_key="k1"
        )


def test_invalid_quantity_is_refused(client: LicendiClient, sb: Sandbox) -> None:
    with pytest.raises(InvalidQuantity):
        client.create_order(
            items=[OrderLineRequest(sku=plain_sku(sb), qty=0)],
            external_id="PO-1",
            idempotency_key="k1",
        )


def test_same_key_with_a_different_body_is_idempotency_key_reused(
    client: LicendiClient, sb: Sandbox
) -> None:
    sku = plain_sku(sb)
    client.create_order(
        items=[OrderLineRequest(sku=sku, qty=1)], external_id="PO-1", idempotency_key="k1"
    )

    with pytest.raises(IdempotencyKeyReused) as caught:
        client.create_order(
            items=[OrderLineRequest(sku=sku, qty=2)], external_id="PO-1", idempotency_key="k1"
        )

    assert not is_definite_refusal(caught.value)
    assert len(order_debits(sb)) == 1


def test_second_request_while_the_first_runs_is_request_in_progress(sb: Sandbox) -> None:
    sku = plain_sku(sb)
    lines = [OrderLineRequest(sku=sku, qty=1)]
    sb.faults.inject(method="POST", path="/api/orders", kind="latency", seconds=1.5, when="during")
    results: list[object] = []

    def first() -> None:
        with LicendiClient(BASE_URL, API_KEY, transport=sb.transport()) as c:
            results.append(c.create_order(items=lines, external_id="PO-1", idempotency_key="k"))

    worker = threading.Thread(target=first)
    worker.start()
    deadline = time.monotonic() + 5
    while order_posts(sb) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the first request has claimed the key and is held

    with (
        LicendiClient(BASE_URL, API_KEY, transport=sb.transport(), max_retries=0) as impatient,
        pytest.raises(RequestInProgress),
    ):
        impatient.create_order(items=lines, external_id="PO-1", idempotency_key="k")

    # A client that retries 409 ends with the original order, charged once.
    with LicendiClient(
        BASE_URL, API_KEY, transport=sb.transport(), backoff_base=0.2, rng=lambda: 1.0
    ) as patient:
        replay = patient.create_order(items=lines, external_id="PO-1", idempotency_key="k")
    worker.join(5)

    assert replay.replayed is True
    assert order_posts(sb) >= 4  # first, impatient, patient's 409(s), patient's replay
    assert replay.order.id == results[0].order.id  # type: ignore[attr-defined]
    assert len(order_debits(sb)) == 1


# ---------------------------------------------------------------- orders


def test_order_is_delivered_with_keys_and_invoice(client: LicendiClient, sb: Sandbox) -> None:
    sku = combination_sku(sb)
    before = sb.balance

    result = client.create_order(
        items=[OrderLineRequest(sku=sku, qty=2)], external_id="PO-2026-001", idempotency_key="k1"
    )

    order = result.order
    assert result.http_status == 201
    assert result.replayed is False
    assert order.status == "delivered"
    assert order.external_id == "PO-2026-001"
    assert order.invoice_number
    assert len(order.items[0].keys) == 2
    assert order.total == order.items[0].unit_price * 2
    assert sb.balance == before - order.total
    assert client.get_order(order.id) == order
    assert client.list_orders(limit=10)[0].id == order.id


def test_idempotent_replay_returns_the_same_order_and_debits_once(
    client: LicendiClient, sb: Sandbox
) -> None:
    lines = [OrderLineRequest(sku=plain_sku(sb), qty=1)]

    first = client.create_order(items=lines, external_id="PO-1", idempotency_key="same-key")
    second = client.create_order(items=lines, external_id="PO-1", idempotency_key="same-key")

    assert second.order.id == first.order.id
    assert second.replayed is True
    assert second.http_status == 200
    assert second.order.items[0].keys == first.order.items[0].keys
    assert len(order_debits(sb)) == 1
    assert len(sb.orders) == 1


def test_timeout_after_processing_then_retry_makes_exactly_one_order(
    client: LicendiClient, sb: Sandbox, sleeps: list[float]
) -> None:
    before = sb.balance
    sb.faults.inject(method="POST", path="/api/orders", kind="timeout_after", times=1)

    result = client.create_order(
        items=[OrderLineRequest(sku=plain_sku(sb), qty=1)],
        external_id="PO-1",
        idempotency_key="k-timeout",
    )

    assert order_posts(sb) == 2
    assert len(sleeps) == 1
    assert result.replayed is True
    assert len(sb.orders) == 1
    assert len(order_debits(sb)) == 1
    assert sb.balance == before - result.order.total


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("status", {"status": 503}),
        ("drop", {}),
        ("timeout", {"seconds": 0}),
    ],
)
def test_order_survives_a_fault_before_processing(
    client: LicendiClient, sb: Sandbox, kind: str, options: dict[str, Any]
) -> None:
    sb.faults.inject(method="POST", path="/api/orders", kind=kind, times=2, **options)

    result = client.create_order(
        items=[OrderLineRequest(sku=plain_sku(sb), qty=1)], external_id="PO-1", idempotency_key="k"
    )

    assert result.replayed is False
    assert order_posts(sb) == 3
    assert len(order_debits(sb)) == 1


def test_rate_limit_is_honoured_with_its_retry_after(
    client: LicendiClient, sb: Sandbox, sleeps: list[float]
) -> None:
    sb.faults.inject(method="GET", path="/api/balance", kind="rate_limit", retry_after=3)

    assert client.get_balance().balance == sb.balance
    assert sleeps == [3.0]


def test_backorder_keys_are_202_pending_then_delivered_after_release(
    client: LicendiClient, sb: Sandbox
) -> None:
    sku = plain_sku(sb)
    sb.set_stock(sku, "backorder")

    result = client.create_order(
        items=[OrderLineRequest(sku=sku, qty=2)], external_id="PO-1", idempotency_key="k"
    )
    assert result.order.status == "pending"
    assert result.order.items[0].keys == ()
    pending = client.get_order_keys(result.order.id)
    assert pending.status == "pending"
    assert pending.keys == ()

    sb.release_pending()

    delivered = client.get_order_keys(result.order.id)
    assert delivered.status == "delivered"
    assert len(delivered.keys) == 2
    assert {key.sku for key in delivered.keys} == {sku}
    assert client.get_order(result.order.id).status == "delivered"


def test_partially_delivered_order_returns_the_keys_so_far(
    client: LicendiClient, sb: Sandbox
) -> None:
    ready, late = plain_sku(sb, 0), plain_sku(sb, 1)
    sb.set_stock(late, "backorder")

    result = client.create_order(
        items=[OrderLineRequest(sku=ready, qty=1), OrderLineRequest(sku=late, qty=1)],
        external_id="PO-1",
        idempotency_key="k",
    )
    keys = client.get_order_keys(result.order.id)

    assert result.order.status == "partially_delivered"
    assert keys.status == "partially_delivered"
    assert [key.sku for key in keys.keys] == [ready]


# ---------------------------------------------------------------- wallet


def test_balance_ledger_is_newest_first_and_continuous(client: LicendiClient, sb: Sandbox) -> None:
    sb.topup(Decimal("100"))
    client.create_order(
        items=[OrderLineRequest(sku=plain_sku(sb), qty=1)], external_id="PO-1", idempotency_key="k"
    )

    balance = client.get_balance()

    assert balance.balance == sb.balance
    assert balance.tier == "Gold"
    assert balance.discount == Decimal("30.00")
    assert [entry.type for entry in balance.ledger] == ["order", "topup", "topup"]
    for newer, older in zip(balance.ledger, balance.ledger[1:], strict=False):
        assert newer.balance_after == older.balance_after + newer.amount
    assert balance.ledger[0].amount < 0


# ---------------------------------------------------------------- webhooks


def test_webhook_create_list_delete_with_secret_returned_once(client: LicendiClient) -> None:
    created = client.create_webhook(
        url="https://example.com/hooks/licendi", events=["order.delivered", "key.assigned"]
    )

    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    WebhookVerifier([created.secret])  # a well-formed secret
    listed = client.list_webhooks()
    assert [endpoint.id for endpoint in listed] == [created.id]
    assert listed[0].secret is None
    assert set(listed[0].events) == {"order.delivered", "key.assigned"}

    client.delete_webhook(created.id)

    assert client.list_webhooks() == []
    with pytest.raises(NotFound):
        client.delete_webhook(created.id)


def test_sandbox_deliveries_verify_with_the_endpoint_secret(
    client: LicendiClient, sb: Sandbox
) -> None:
    endpoint = client.create_webhook(url="https://example.com/hooks", events=["order.delivered"])
    received: list[tuple[dict[str, str], bytes]] = []

    def receiver(url: str, headers: dict[str, str], body: bytes) -> int:
        received.append((headers, body))
        return 204

    sb.webhook_sender = receiver
    result = client.create_order(
        items=[OrderLineRequest(sku=plain_sku(sb), qty=1)], external_id="PO-1", idempotency_key="k"
    )
    sb.deliver_webhooks()

    assert len(received) == 1
    headers, body = received[0]
    assert endpoint.secret is not None
    WebhookVerifier([endpoint.secret]).verify(headers=headers, body=body)
    event = parse_event(body)
    assert isinstance(event.data, OrderDelivered)
    assert event.data.order_id == result.order.id
    assert [key.key for key in event.data.keys] == list(result.order.items[0].keys)


# ---------------------------------------------------------------- contract


def test_sandbox_openapi_has_no_drift_from_what_the_client_relies_on(
    client: LicendiClient,
) -> None:
    spec = client.get_openapi()

    assert spec["openapi"].startswith("3.1")
    assert contract_drift(spec) == []


# ---------------------------------------------------------------- list pages side by side


def _pages_asked(sb: Sandbox) -> list[int]:
    """The page numbers of every list request the sandbox received, sorted."""
    return sorted(
        int(parse_qs(urlsplit(path).query)["page"][0])
        for method, path in sb.requests
        if method == "GET" and path.startswith("/api/products?")
    )


def _side_by_side(sb: Sandbox, sleeps: list[float], **options: Any) -> LicendiClient:
    return LicendiClient(
        BASE_URL,
        API_KEY,
        transport=sb.transport(),
        sleep=sleeps.append,
        rng=lambda: 0.5,
        limiter=AdaptiveLimiter(ceiling=8, initial=8),
        **options,
    )


def test_pages_read_side_by_side_cover_the_catalog_in_whatever_order_they_come(
    sb: Sandbox, sleeps: list[float]
) -> None:
    # Page 2 answers last: the pages after it are not held back by it.
    sb.faults.inject(method="GET", path="/api/products?page=2&*", kind="latency", seconds=1.0)

    with _side_by_side(sb, sleeps) as client:
        pages = list(client.product_pages(page_size=20))

    numbers = [page.page for page in pages]
    assert numbers[0] == 1 and numbers[-1] == 2
    assert sorted(numbers) == list(range(1, 11))
    skus = [product.sku for page in pages for product in page.items]
    assert len(skus) == len(set(skus)) == 200
    assert sorted(skus) == sorted(sb.product_skus())
    assert _pages_asked(sb) == list(range(1, 11))  # each page once, none past the end


def test_a_page_that_keeps_failing_fails_the_listing_and_names_the_page(
    sb: Sandbox, sleeps: list[float]
) -> None:
    sb.faults.inject(
        method="GET", path="/api/products?page=3&*", kind="status", status=503, times=None
    )

    with _side_by_side(sb, sleeps, max_retries=2) as client, pytest.raises(ServerError) as caught:
        list(client.product_pages(page_size=20))

    assert caught.value.status == 503
    assert "page=3" in str(caught.value)
    assert _pages_asked(sb).count(3) == 3  # the first attempt and two retries


def test_a_rate_limited_page_waits_out_retry_after_and_the_listing_completes(
    sb: Sandbox, sleeps: list[float]
) -> None:
    sb.faults.inject(
        method="GET", path="/api/products?page=4&*", kind="rate_limit", retry_after=3, times=1
    )

    with _side_by_side(sb, sleeps) as client:
        pages = list(client.product_pages(page_size=20))
        limiter = client.limiter

    assert sleeps == [3]  # Retry-After honoured, once
    assert limiter is not None and limiter.decreases == 1  # and the limiter backed off
    assert sum(len(page.items) for page in pages) == 200
    assert _pages_asked(sb).count(4) == 2


def test_without_a_total_pages_are_read_ahead_and_stop_at_the_first_short_page(
    make_paged_upstream: Any,
) -> None:
    products = [{"sku": str(n), "name": "P", "price": "2.00", "netPrice": "1.50"} for n in range(7)]
    client, asked = make_paged_upstream(products, total=False)

    pages = list(client.product_pages(page_size=2, read_ahead=3))

    skus = sorted(product.sku for page in pages for product in page.items)
    assert skus == sorted(product["sku"] for product in products)
    # Pages 1-4 hold the 7 records (page 4 is short); the read-ahead asked at most three
    # pages past the last full one and no more.
    assert set(range(1, 5)) <= set(asked) and max(asked) <= 4 + 3
    assert len(asked) == len(set(asked))


def test_a_total_far_above_the_records_asks_for_a_bounded_number_of_pages(
    make_paged_upstream: Any,
) -> None:
    products = [{"sku": str(n), "name": "P", "price": "2.00", "netPrice": "1.50"} for n in range(7)]
    client, asked = make_paged_upstream(products, claimed_total=10_000)

    pages = list(client.product_pages(page_size=2))

    skus = sorted(product.sku for page in pages for product in page.items)
    assert skus == sorted(product["sku"] for product in products)
    # The first empty page (5) ends the list; at most a window of pages (2 x the 4
    # workers) was asked for past what was answered, never the 5,000 pages claimed.
    assert set(range(1, 6)) <= set(asked) and max(asked) <= 5 + 8
    assert {page.total for page in pages} == {10_000}  # the caller sees the claim


def test_an_upstream_ignoring_the_page_is_refused_when_read_side_by_side(
    make_paged_upstream: Any,
) -> None:
    products = [{"sku": str(n), "name": "P", "price": "2.00", "netPrice": "1.50"} for n in range(6)]
    client, _ = make_paged_upstream(products, total=False, ignore_page=True)

    with pytest.raises(ContractError) as caught:
        list(client.product_pages(page_size=2))

    assert caught.value.field == "page"


@pytest.fixture
def make_paged_upstream() -> Iterator[Any]:
    """A list endpoint that pages a given product list (with or without a total)."""
    clients: list[LicendiClient] = []

    def make(
        products: list[dict[str, Any]],
        *,
        total: bool = True,
        ignore_page: bool = False,
        claimed_total: int | None = None,
    ) -> tuple[LicendiClient, list[int]]:
        asked: list[int] = []
        lock = threading.Lock()

        def answer(request: httpx.Request) -> httpx.Response:
            number = int(request.url.params["page"])
            size = int(request.url.params["pageSize"])
            with lock:
                asked.append(number)
            start = 0 if ignore_page else (number - 1) * size
            body: dict[str, Any] = {"items": products[start : start + size]}
            if total:
                body["total"] = len(products) if claimed_total is None else claimed_total
            return httpx.Response(200, json=body)

        client = LicendiClient(
            BASE_URL,
            API_KEY,
            transport=httpx.MockTransport(answer),
            limiter=AdaptiveLimiter(ceiling=4, initial=4),
        )
        clients.append(client)
        return client, asked

    yield make
    for client in clients:
        client.close()
