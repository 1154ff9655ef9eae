"""``python -m sandbox --no-access-log`` (the demo) serves without a line per request."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sandbox-demo-key"  # the default of --api-key


def test_no_access_log_serves_requests_without_logging_them() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--products", "50", "--no-access-log"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.search(r"Listening on (http://\S+)", line)
            url = match.group(1) if match else None
        assert url is not None, "the sandbox did not print its URL"
        with httpx.Client(base_url=url, headers={"X-Api-Key": API_KEY}, timeout=5) as client:
            assert client.get("/api/balance").status_code == 200
            assert client.get("/api/products", params={"pageSize": 5}).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    output = process.stdout.read()
    assert "/api/balance" not in output
    assert "/api/products" not in output
