"""Every bad request gets a clear JSON error, never a traceback."""

from __future__ import annotations

import httpx
import pytest

from sandbox import Sandbox

from .conftest import BASE_URL, Skus


def error_code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]["code"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/products"),
        ("GET", "/api/balance"),
        ("POST", "/api/orders"),
        ("GET", "/api/webhooks"),
        ("GET", "/api/openapi"),
        ("GET", "/api/does-not-exist"),
        ("GET", "/_sandbox/state"),
    ],
)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_api_key_is_401(sb: Sandbox, method: str, path: str, key: str | None):
    headers = {"X-Api-Key": key} if key else {}
    with httpx.Client(transport=sb.transport(), base_url=BASE_URL, headers=headers) as client:
        response = client.request(method, path)
    assert response.status_code == 401
    assert error_code(response) == "invalid_api_key"


@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"pageSize": "1.5"}, {"pageSize": ""}],
)
def test_bad_paging_is_400(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get("/api/products", params=params)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"


def test_bad_orders_limit_is_400(api: httpx.Client) -> None:
    response = api.get("/api/orders", params={"limit": "zero"})
    assert response.status_code == 400 and error_code(response) == "invalid_request"


def test_unknown_route_is_404_and_wrong_method_is_405(api: httpx.Client) -> None:
    response = api.get("/api/nothing/here")
    assert response.status_code == 404 and error_code(response) == "not_found"
    response = api.delete("/api/products")
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def post_order(api: httpx.Client, content: bytes | str, key: str = "k") -> httpx.Response:
    return api.post(
        "/api/orders",
        content=content,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"items": []}',
        b'{"items": "13200"}',
        b'{"externalId": "PO-1"}',
        b'{"items": [42]}',
        b'{"items": [{"sku": 13200, "qty": 1}]}',
        b'{"items": [{"qty": 1}]}',
        b'{"items": [{"sku": "1", "qty": 1}], "externalId": 7}',
        b"\xff\xfe",
    ],
)
def test_malformed_order_bodies_are_400(api: httpx.Client, content: bytes) -> None:
    response = post_order(api, content)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"


@pytest.mark.parametrize("qty", ["0", "-1", "101", "1.5", "2.0", '"2"', "true", "null"])
def test_bad_quantities_are_422(sb: Sandbox, api: httpx.Client, skus: Skus, qty: str) -> None:
    response = post_order(api, f'{{"items": [{{"sku": "{skus.in_stock()[0]}", "qty": {qty}}}]}}')
    assert response.status_code == 422
    assert error_code(response) == "invalid_quantity"
    assert sb.orders == {}


def test_order_without_idempotency_key_is_400(api: httpx.Client, skus: Skus) -> None:
    response = api.post("/api/orders", json={"items": [{"sku": skus.in_stock()[0], "qty": 1}]})
    assert response.status_code == 400
    assert error_code(response) == "idempotency_key_required"


def test_an_unexpected_failure_is_a_json_500(
    sb: Sandbox, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(sb.state, "balance_view", boom)
    response = api.get("/api/balance")
    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "Traceback" not in response.text


def test_a_fault_naming_a_query_hits_only_that_page(sb: Sandbox, api: httpx.Client) -> None:
    sb.faults.inject(method="GET", path="/api/products?page=2&*", kind="status", status=503)

    first = api.get("/api/products", params={"page": 1, "pageSize": 10})
    second = api.get("/api/products", params={"page": 2, "pageSize": 10})
    again = api.get("/api/products", params={"page": 2, "pageSize": 10})

    assert (first.status_code, second.status_code, again.status_code) == (200, 503, 200)
