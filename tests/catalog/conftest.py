"""Fixtures for the catalog tests: a mid-sized sandbox and a client that never sleeps."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

SANDBOX_API_KEY = "sandbox-test-key"
PRODUCTS = 200


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The client's backoff delays, recorded instead of slept (retries stay fast)."""
    from django.conf import settings

    import catalog.services.sync
    from backoffice import upstream
    from licendi import AdaptiveLimiter, LicendiClient, Observations

    delays: list[float] = []

    def clock() -> float:
        # Time as the client lives it: every recorded (unslept) delay has passed.
        return time.monotonic() + sum(delays)

    def fast_client(*, limiter: AdaptiveLimiter | None = None) -> LicendiClient:
        if limiter is not None:
            limiter = AdaptiveLimiter(ceiling=limiter.ceiling, initial=limiter.limit, clock=clock)
        return upstream.RecordingClient(
            base_url=settings.LICENDI_BASE_URL,
            api_key=settings.LICENDI_API_KEY,
            max_retries=settings.LICENDI_MAX_RETRIES,
            transport=upstream._transport_override,
            sleep=delays.append,
            observations=Observations(),
            limiter=limiter,
        )

    monkeypatch.setattr(catalog.services.sync, "licendi_client", fast_client)
    return delays


@pytest.fixture
def sb(settings, sleeps) -> Iterator[object]:
    """A 200-product sandbox (about a third with variants) wired in as the upstream."""
    from backoffice.upstream import use_transport
    from sandbox import Sandbox

    sandbox = Sandbox(products=PRODUCTS, seed=11, api_key=SANDBOX_API_KEY)
    settings.LICENDI_BASE_URL = "http://sandbox.test"
    settings.LICENDI_API_KEY = SANDBOX_API_KEY
    settings.CATALOG_SYNC_PAGE_SIZE = 100
    settings.CATALOG_SYNC_CONCURRENCY = 4
    with use_transport(sandbox.transport()):
        yield sandbox


def detail_requests(sandbox) -> int:
    return sum(
        1
        for method, path in sandbox.requests
        if method == "GET" and path.startswith("/api/products/")
    )


@pytest.fixture
def drifting(settings, sleeps) -> Iterator[object]:
    """The same 200-product sandbox serving drifting answers and three broken records."""
    from backoffice.upstream import use_transport
    from sandbox import Sandbox

    sandbox = Sandbox(products=PRODUCTS, seed=11, api_key=SANDBOX_API_KEY, drift=True)
    settings.LICENDI_BASE_URL = "http://sandbox.test"
    settings.LICENDI_API_KEY = SANDBOX_API_KEY
    settings.CATALOG_SYNC_PAGE_SIZE = 100
    settings.CATALOG_SYNC_CONCURRENCY = 4
    with use_transport(sandbox.transport()):
        yield sandbox
