"""The client's connection pool never caps the requests its limiter lets through."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from licendi import AdaptiveLimiter, LicendiClient
from sandbox.process import served

API_KEY = "pool-key"


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[str]:
    """`python -m sandbox` on a port, every /api call taking 1.5 s."""
    options = ("--products", "60", "--api-key", API_KEY, "--latency-ms", "1500")
    with served(*options, "--no-access-log") as url:
        yield url


def test_as_many_requests_are_in_flight_as_the_limiter_allows_above_the_default_pool(
    slow_sandbox: str,
) -> None:
    # 40 is above httpx's default keep-alive pool (20) and the client's floor of 20 + 10.
    ceiling = 40
    limiter = AdaptiveLimiter(ceiling=ceiling, initial=ceiling)
    with LicendiClient(slow_sandbox, API_KEY, limiter=limiter) as client:
        skus = [item.sku for item in client.list_products(page_size=ceiling).items]
        with ThreadPoolExecutor(ceiling) as pool:
            details = list(pool.map(client.get_product, skus))
    state = httpx.get(f"{slow_sandbox}/_sandbox/state", headers={"X-Api-Key": API_KEY}).json()

    assert [detail.sku for detail in details] == skus
    assert state["peakInFlight"] == ceiling
