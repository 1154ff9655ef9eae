"""``latency_ms`` / ``--latency-ms``: every /api call is slower, none waits for another."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sandbox import Sandbox
from sandbox.process import served

API_KEY = "latency-key"


def timed_gets(client: httpx.Client, paths: list[str]) -> list[tuple[int, float]]:
    """GET each path from its own thread, all released at once; (status, seconds) each."""
    start = threading.Barrier(len(paths))

    def get(path: str) -> tuple[int, float]:
        start.wait()
        began = time.perf_counter()
        status = client.get(path).status_code
        return status, time.perf_counter() - began

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(get, paths))


def test_every_api_call_takes_at_least_the_latency_and_calls_overlap():
    sb = Sandbox(products=20, api_key=API_KEY, latency_ms=300)
    skus = sb.product_skus()[:4]
    client = httpx.Client(
        transport=sb.transport(), base_url="http://sandbox.test", headers={"X-Api-Key": API_KEY}
    )
    with client:
        answers = timed_gets(client, [f"/api/products/{sku}" for sku in skus])

    assert [status for status, _ in answers] == [200] * 4
    assert min(seconds for _, seconds in answers) >= 0.3
    # Four requests were being answered at the same moment: no lock serialises the wait.
    assert sb.peak_in_flight == 4
    assert sb.in_flight == 0


def test_control_calls_pay_no_latency():
    sb = Sandbox(products=5, api_key=API_KEY, latency_ms=60_000)
    client = httpx.Client(
        transport=sb.transport(), base_url="http://sandbox.test", headers={"X-Api-Key": API_KEY}
    )
    with client:
        assert client.get("/_sandbox/state").status_code == 200


def test_negative_latency_is_refused():
    with pytest.raises(ValueError, match="latency_ms"):
        Sandbox(products=1, latency_ms=-1)


def test_served_on_a_port_with_latency_answers_concurrent_requests_side_by_side():
    options = ("--products", "20", "--api-key", API_KEY, "--latency-ms", "300")
    with served(*options, "--no-access-log") as url:
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        with httpx.Client(
            base_url=url, headers={"X-Api-Key": API_KEY}, timeout=30, limits=limits
        ) as client:
            answers = timed_gets(client, ["/api/balance"] * 4)
            state = client.get("/_sandbox/state").json()

    assert [status for status, _ in answers] == [200] * 4
    assert min(seconds for _, seconds in answers) >= 0.3
    assert state["peakInFlight"] == 4


def test_served_small_answers_one_after_another_wait_for_no_delayed_acknowledgement():
    # Without TCP_NODELAY on the server's sockets each small answer on a kept-alive
    # connection waited about 40 ms for the client's delayed ACK: 20 answers, 0.8 s.
    with (
        served("--products", "20", "--api-key", API_KEY, "--no-access-log") as url,
        httpx.Client(base_url=url, headers={"X-Api-Key": API_KEY}, timeout=30) as client,
    ):
        sku = client.get("/api/products").json()["items"][0]["sku"]
        client.get(f"/api/products/{sku}")  # the connection is open from here on
        began = time.perf_counter()
        statuses = [client.get(f"/api/products/{sku}").status_code for _ in range(20)]
        elapsed = time.perf_counter() - began

    assert statuses == [200] * 20
    assert elapsed < 0.4, f"20 answers took {elapsed:.2f} s"
