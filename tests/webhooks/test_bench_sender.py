"""The webhook bench's load generator: signed deliveries over keep-alive connections."""

import json
import subprocess  # noqa: S404 - starts this interpreter on a fixed script
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import bench_webhooks as hooks
from bench.webhooks_compare import group_cpu_seconds
from licendi.webhooks import WebhookVerifier, generate_secret

SECRET = generate_secret()


class _Receiver(BaseHTTPRequestHandler):
    """Verifies each delivery as the receiver does; closes every fifth connection."""

    protocol_version = "HTTP/1.1"
    verifier = WebhookVerifier([SECRET])
    seen: list[str] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            self.verifier.verify(headers=dict(self.headers.items()), body=body)
        except Exception:
            answer, status = b'{"error": "no valid signature"}', 401
        else:
            with self.lock:
                self.seen.append(json.loads(body)["id"])
                count = len(self.seen)
            answer, status = b'{"status": "accepted"}', 200
            self.close_connection = count % 5 == 0
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver_port():
    _Receiver.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("client", hooks.CLIENT_KINDS)
def test_every_delivery_is_sent_signed_once_and_answered(receiver_port, client):
    bodies = [json.dumps({"id": f"evt_{n}", "type": "ping"}).encode() for n in range(60)]
    results, wall = hooks.send_all(
        receiver_port, SECRET, bodies, 4, time.monotonic() + 60, path="/hooks", client=client
    )
    assert [status for status, _, _ in results] == [200] * 60
    assert {detail for _, _, detail in results} == {"accepted"}
    assert all(0 < seconds <= wall for _, seconds, _ in results)
    assert sorted(_Receiver.seen) == sorted(f"evt_{n}" for n in range(60))


def test_a_refusal_is_reported_with_its_status(receiver_port):
    bodies = [json.dumps({"id": "evt_x", "type": "ping"}).encode()]
    results, _ = hooks.send_all(
        receiver_port, generate_secret(), bodies, 1, time.monotonic() + 60, path="/hooks"
    )
    assert results[0][0] == 401
    assert results[0][2] == ""


def test_a_closed_port_is_a_failed_delivery_not_an_exception():
    port = hooks.free_port()
    bodies = [json.dumps({"id": "evt_y", "type": "ping"}).encode()]
    results, _ = hooks.send_all(port, SECRET, bodies, 1, time.monotonic() + 60)
    assert results[0][0] == 0
    assert results[0][2] == "ConnectionRefusedError"


# Waits for a line, spends 0.3 s of CPU, says so, then waits to be told to end: its CPU is
# read while it is alive (a process that has ended leaves its group's sum).
BURNER = """
import sys, time
sys.stdin.readline()
started = time.process_time()
while time.process_time() - started < 0.3:
    pass
print("spent", flush=True)
sys.stdin.readline()
"""


def test_cpu_of_a_process_group_is_counted():
    # A group of its own (as gunicorn gets in the bench): the test runner's group also
    # holds processes that come and go, and one ending would take its CPU out of the sum.
    burner = subprocess.Popen(
        [sys.executable, "-c", BURNER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        before = group_cpu_seconds(burner.pid)
        assert before is not None
        burner.stdin.write("go\n")
        burner.stdin.flush()
        assert burner.stdout.readline().strip() == "spent"
        assert group_cpu_seconds(burner.pid) >= before + 0.25
    finally:
        burner.stdin.close()
        burner.wait(timeout=10)
