"""Fixtures for the sandbox's own tests: raw httpx against it, in-process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import Sandbox

API_KEY = "sandbox-key"
BASE_URL = "http://sandbox.test"


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(products=200, seed=1, api_key=API_KEY)


def client_for(sandbox: Sandbox, **headers: str) -> httpx.Client:
    return httpx.Client(
        transport=sandbox.transport(),
        base_url=BASE_URL,
        headers={"X-Api-Key": sandbox.api_key, **headers},
    )


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb) as client:
        yield client


class Skus:
    """Orderable skus of a sandbox picked by stock state, for readable tests."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _with(self, state: str) -> list[str]:
        found = []
        for sku in self.sandbox.order_skus():
            product, combo = self.sandbox.catalog.resolve(sku)
            if (combo.stock if combo is not None else product.stock) == state:
                found.append(sku)
        return found

    def in_stock(self) -> list[str]:
        return self._with("in_stock")

    def backorder(self) -> list[str]:
        return self._with("backorder")

    def sold_out(self) -> list[str]:
        return self._with("sold_out")


@pytest.fixture
def skus(sb: Sandbox) -> Skus:
    return Skus(sb)


def order(
    client: httpx.Client, items: list[tuple[str, int]], key: str, external_id: str | None = "PO-1"
) -> httpx.Response:
    return client.post(
        "/api/orders",
        json={"items": [{"sku": s, "qty": q} for s, q in items], "externalId": external_id},
        headers={"Idempotency-Key": key},
    )
