"""``python -m sandbox`` serves the API on a real socket."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "server-test-key"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--products", "300", "--api-key", API_KEY],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"Listening on (http://\S+)", line)
        url = match.group(1) if match else None
    try:
        assert url is not None, "the sandbox did not print its URL"
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def curl(url: str, *args: str) -> tuple[int, str]:
    completed = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args, url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = completed.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_products_balance_and_openapi_with_curl(server: tuple[str, subprocess.Popen[str]]):
    url, _ = server
    key = ("-H", f"X-Api-Key: {API_KEY}")
    status, body = curl(f"{url}/api/products?pageSize=5", *key)
    assert status == 200 and json.loads(body)["total"] == 300
    status, body = curl(f"{url}/api/balance", *key)
    assert status == 200 and json.loads(body)["currency"] == "EUR"
    status, body = curl(f"{url}/api/openapi", *key)
    assert status in (200, 503)
    if status == 200:
        assert body.startswith("openapi:")
    status, body = curl(f"{url}/api/balance")
    assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"


def test_orders_and_socket_faults(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = server
    with httpx.Client(base_url=url, headers={"X-Api-Key": API_KEY}, timeout=5) as client:
        sku = next(
            item["sku"]
            for item in client.get("/api/products", params={"pageSize": 300}).json()["items"]
            if not item["hasVariants"] and item["inStock"]
        )
        body = {"items": [{"sku": sku, "qty": 1}], "externalId": "PO-S"}
        fault = {"method": "POST", "path": "/api/orders", "kind": "timeout_after"}
        assert client.post("/_sandbox/faults", json=fault).status_code == 201
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/orders", json=body, headers={"Idempotency-Key": "s-1"})
        replay = client.post("/api/orders", json=body, headers={"Idempotency-Key": "s-1"})
        assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
        assert client.get("/_sandbox/state").json()["orders"] == 1
        drop = {"method": "GET", "path": "/api/balance", "kind": "drop"}
        client.post("/_sandbox/faults", json=drop)
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/api/balance")
        assert client.get("/api/balance").status_code == 200


def test_gets_share_one_connection_and_a_request_with_a_body_closes_it(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = server
    host, port = urlsplit(url).hostname, urlsplit(url).port
    assert host is not None and port is not None
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        answers = []
        for path in ("/api/balance", "/api/products?pageSize=2", "/api/nowhere"):
            connection.request("GET", path, headers={"X-Api-Key": API_KEY})
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Connection"), response.read()))
            sock = connection.sock
        # One socket served all three; each answer said how long it was.
        assert [status for status, _, _ in answers] == [200, 200, 404]
        assert all(header is None and body for _, header, body in answers)
        assert connection.sock is sock is not None
        connection.request(
            "POST",
            "/api/orders",
            body=b"{}",
            headers={"X-Api-Key": API_KEY, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        assert response.status == 400 and response.getheader("Connection") == "close"
        response.read()
    finally:
        connection.close()


def test_log_lines_never_carry_keys(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = server
    with httpx.Client(base_url=url, headers={"X-Api-Key": API_KEY}, timeout=5) as client:
        client.get("/api/balance")
    process.terminate()
    process.wait(timeout=10)
    assert process.stdout is not None
    # Read through the text wrapper: the fixture left buffered start-up lines there.
    output = process.stdout.read()
    assert "GET /api/balance 200" in output
    # The key is printed once at start-up, never in a request line.
    assert output.count(API_KEY) == 1
    assert not re.search(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){4}", output)


AUTH = ("--api-key", API_KEY)


def test_drift_flag_serves_the_drifting_answers_and_names_the_broken_records() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--products", "60", "--drift", *AUTH],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        url = next(m.group(1) for line in lines if (m := re.search(r"on (http://\S+)", line)))
        broken = next(line for line in lines if line.startswith("Drifting answers"))
        assert "list price is not a number" in broken
        products = httpx.get(f"{url}/api/products", headers={"X-Api-Key": API_KEY}).json()
        assert {item["inStock"] for item in products["items"]} <= {0, 1}
        balance = httpx.get(f"{url}/api/balance", headers={"X-Api-Key": API_KEY}).json()
        assert "ledger" not in balance and balance["entries"]
    finally:
        process.terminate()
        process.wait(timeout=10)
