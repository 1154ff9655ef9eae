"""Load check of the webhook receiver: real gunicorn, real PostgreSQL, real Celery worker.

Run:  .venv/bin/python bench/bench_webhooks.py [--unique 4550] [--duplicates 455]
                                              [--concurrency 16] [--web-workers 4]

What it does, all on 127.0.0.1 and bounded in time:
1. creates and migrates the dedicated database `bench_webhooks` (DATABASE_URL overrides),
   empties the webhooks and orders tables, inserts one active endpoint secret and the
   purchase orders the events belong to;
2. starts gunicorn (the back-office WSGI app, bench/webhooks_settings.py: dev settings
   with DEBUG off and the cache in Redis, --preload,
   gthread workers keeping connections alive; --web-threads 1 for sync workers) on a
   free loopback port, with Celery's broker and the cache on a dedicated Redis database;
3. sends every delivery (unique events plus repeated ones, shuffled, each freshly signed
   with the endpoint secret) over keep-alive connections from one asyncio loop (or, with
   --client httpx, a thread pool of httpx clients), timing each answer;
4. starts the worker (by default only once every delivery is acknowledged, so the two
   phases are measured separately; --worker-during-send overlaps them) and waits for it
   to apply the events (any left after the wait are drained by the service in this
   process and reported), then checks in the database that each
   unique event is stored once, applied once (attempts = 1, status processed), that every
   key was stored once, and that the duplicate counters add up to the repeats sent.
Prints acknowledgements per second and p50/p95/p99 latency. Exits non-zero on a failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_webhooks"
DEFAULT_BROKER = "redis://127.0.0.1:6379/12"
BIN = ROOT / ".venv" / "bin"


def bench_environment(database_url: str, broker_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        {
            # Development settings with the cache in Redis as in production (webhooks_settings).
            "DJANGO_SETTINGS_MODULE": "bench.webhooks_settings",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": broker_url,
            "REDIS_URL": broker_url,
            "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS")
            or Fernet.generate_key().decode(),
            "KEY_HASH_SECRET": os.environ.get("KEY_HASH_SECRET") or uuid.uuid4().hex,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or uuid.uuid4().hex + uuid.uuid4().hex,
            "LOG_LEVEL": "WARNING",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on 127.0.0.1:{port} in time")


def stop(process: subprocess.Popen) -> None:
    """Stop one process group we started (gunicorn or the worker and their children)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def prepare(args) -> tuple[str, list[dict], int]:
    """Fresh tables, one endpoint, the POs; returns (secret, unique event bodies, key count)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from backoffice import crypto
    from licendi.webhooks import generate_secret
    from orders.models import PurchaseOrder, PurchaseOrderLine
    from webhooks.models import WebhookEndpoint

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE webhooks_webhookevent, webhooks_webhookendpoint, orders_licencekey, "
            "orders_purchaseorderevent, orders_purchaseorderline, orders_purchaseorder CASCADE"
        )
    from django.core.cache import cache

    from webhooks.services.deliveries import DRAIN_PENDING_KEY

    cache.delete(DRAIN_PENDING_KEY)  # a drain flag left by an interrupted run
    secret = generate_secret()
    WebhookEndpoint.objects.create(
        upstream_id="wh-bench",
        url="http://127.0.0.1/hooks/licendi",
        events=["order.delivered", "key.assigned"],
        secret_encrypted=crypto.encrypt(secret),
    )

    rng = random.Random(args.seed)
    orders = max(1, args.unique // 10)
    pos = []
    for n in range(orders):
        pos.append(
            PurchaseOrder(
                status=PurchaseOrder.Status.PENDING_DELIVERY,
                external_id=f"PO-BENCH-{n:06d}",
                upstream_id=f"ord-bench-{n:06d}",
                idempotency_key=uuid.uuid4(),
                # Known in full, as once the order answer is stored: applying keys does
                # not queue a details refresh per event.
                invoice_number=f"INV-BENCH-{n:06d}",
                upstream_total=1000,
            )
        )
    PurchaseOrder.objects.bulk_create(pos, batch_size=1000)
    lines = [
        PurchaseOrderLine(
            purchase_order=po,
            order_sku="BENCH-1",
            name="Bench",
            quantity=1000,
            unit_net_price=1,
            upstream_unit_price=1,
        )
        for po in PurchaseOrder.objects.filter(external_id__startswith="PO-BENCH-")
    ]
    PurchaseOrderLine.objects.bulk_create(lines, batch_size=1000)

    events, keys = [], 0
    for n in range(args.unique):
        order = rng.randrange(orders)
        data: dict = {"orderId": f"ord-bench-{order:06d}", "externalId": f"PO-BENCH-{order:06d}"}
        if n % 3 == 0:
            data["keys"] = [
                {"sku": "BENCH-1", "name": "Bench", "key": f"BENCH-{n:07d}-{i}"} for i in range(2)
            ]
            kind, keys = "order.delivered", keys + 2
        else:
            data.update({"sku": "BENCH-1", "name": "Bench", "key": f"BENCH-{n:07d}-0"})
            kind, keys = "key.assigned", keys + 1
        events.append(
            {
                "id": f"evt_bench_{n:07d}_{uuid.uuid4().hex[:8]}",
                "type": kind,
                "createdAt": "2026-11-26T09:15:00Z",
                "data": data,
            }
        )
    connection.close()
    return secret, events, keys


def warm_up(port: int, count: int, deadline: float) -> None:
    """GETs (answered 405, nothing stored) until every worker has served a request."""
    import httpx

    with httpx.Client(timeout=60.0) as client:
        for _ in range(count):
            if time.monotonic() > deadline:
                return
            client.get(f"http://127.0.0.1:{port}/hooks/licendi")


# How deliveries are sent: "raw" (default) is one asyncio loop writing HTTP/1.1 requests
# over keep-alive sockets, about 0.3 ms of CPU a request, signing included; "httpx" is a
# thread per connection with an httpx client, about 1.8 ms of CPU a request (both
# measured at load 8 on the 2-core machine), which on a small machine takes the cores
# from the server it measures.
CLIENT_KINDS = ("raw", "httpx")


def send_all(
    port: int,
    secret: str,
    bodies: list[bytes],
    concurrency: int,
    deadline: float,
    path: str = "/hooks/licendi",
    client: str = "raw",
):
    """POST each body, freshly signed, over `concurrency` keep-alive connections;
    (status, seconds, answer) per body, and the wall time of the whole set."""
    if client == "httpx":
        return _send_all_httpx(port, secret, bodies, concurrency, deadline, path)
    if client != "raw":
        raise ValueError(f"unknown client {client!r}; one of {CLIENT_KINDS}")
    return _send_all_raw(port, secret, bodies, concurrency, deadline, path)


def _send_all_raw(
    port: int, secret: str, bodies: list[bytes], concurrency: int, deadline: float, path: str
):
    import asyncio

    from licendi.webhooks import signature_headers

    # Read before the clock starts: the sender knows its ids, it does not parse its bodies.
    ids = [json.loads(body)["id"] for body in bodies]
    results: list[tuple[int, float, str]] = [(0, 0.0, "not sent")] * len(bodies)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"

    def request(index: int) -> bytes:
        body = bodies[index]
        headers = signature_headers(secret, ids[index], int(time.time()), body)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"{head}{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body

    async def answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        status = int((await reader.readline()).split(b" ", 2)[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        return status, await reader.readexactly(length), close

    async def connection(queue: list[int]) -> None:
        reader = writer = None
        while queue:
            index = queue.pop()
            if time.monotonic() > deadline:
                results[index] = (0, 0.0, "deadline")
                continue
            data = request(index)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(60.0):
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    assert reader is not None
                    writer.write(data)
                    status, body, close = await answer(reader)
            except (OSError, EOFError, ValueError, IndexError, TimeoutError) as exc:
                results[index] = (0, time.perf_counter() - started, type(exc).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            elapsed = time.perf_counter() - started
            detail = json.loads(body).get("status", "") if status == 200 else ""
            results[index] = (status, elapsed, detail)
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def run() -> None:
        queue = list(range(len(bodies)))[::-1]  # popped from the end: sent in order
        await asyncio.gather(*(connection(queue) for _ in range(concurrency)))

    started = time.perf_counter()
    asyncio.run(run())
    return results, time.perf_counter() - started


def _send_all_httpx(
    port: int, secret: str, bodies: list[bytes], concurrency: int, deadline: float, path: str
):
    import httpx

    from licendi.webhooks import signature_headers

    url = f"http://127.0.0.1:{port}{path}"
    local = threading.local()
    clients: list[httpx.Client] = []
    clients_lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60.0)
            with clients_lock:
                clients.append(local.client)
        return local.client

    def one(body: bytes) -> tuple[int, float, str]:
        if time.monotonic() > deadline:
            return 0, 0.0, "deadline"
        msg_id = json.loads(body)["id"]
        headers = signature_headers(secret, msg_id, int(time.time()), body)
        headers["content-type"] = "application/json"
        started = time.perf_counter()
        try:
            response = client().post(url, content=body, headers=headers)
        except Exception as exc:  # counted as a failed acknowledgement
            return 0, time.perf_counter() - started, type(exc).__name__
        elapsed = time.perf_counter() - started
        status = response.json().get("status", "") if response.status_code == 200 else ""
        return response.status_code, elapsed, status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, bodies))
    wall = time.perf_counter() - started
    for item in clients:
        item.close()
    return results, wall


def start_gunicorn(
    env: dict[str, str],
    port: int,
    workers: int,
    threads: int,
    logs: Path,
    *,
    log_name: str = "webhooks-gunicorn.log",
    extra: tuple[str, ...] = (),
) -> subprocess.Popen:
    """gunicorn serving the back-office (DJANGO_SETTINGS_MODULE from `env`) on 127.0.0.1.

    `extra` adds gunicorn options (the Procfile's, for a bench that runs the web process
    as deployed); its output goes to `logs / log_name`.
    """
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "backoffice.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *(
                # gthread keeps HTTP connections alive; sync workers close each one.
                ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
            ),
            "--log-level",
            "warning",
            # Load Django once in the master: workers fork ready, the first answers are not
            # spent importing the project.
            "--preload",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(logs / log_name, "w"),
        stderr=subprocess.STDOUT,
    )


def start_celery_worker(env: dict[str, str], concurrency: int, logs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "backoffice",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(logs / "webhooks-worker.log", "w"),
        stderr=subprocess.STDOUT,
    )


def wait_until_applied(deadline: float) -> tuple[float, int]:
    """Seconds until no event is left `received` (bounded by deadline), and how many are."""
    from webhooks.models import WebhookEvent

    started = time.perf_counter()
    left = 0
    while time.monotonic() < deadline:
        left = WebhookEvent.objects.filter(status="received").count()
        if left == 0:
            break
        time.sleep(0.2)
    return time.perf_counter() - started, left


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def verify(expected_unique: int, expected_duplicates: int, expected_keys: int) -> list[str]:
    from django.db.models import Count, Sum

    from orders.models import LicenceKey
    from webhooks.models import WebhookEvent

    problems = []
    events = WebhookEvent.objects.all()
    stored = events.count()
    distinct = events.values("event_id").distinct().count()
    by_status = dict(events.values_list("status").annotate(n=Count("id")))
    totals = events.aggregate(
        attempts=Sum("attempts"), duplicates=Sum("duplicate_count"), keys=Sum("keys_stored")
    )
    applied_once = events.filter(status="processed", attempts=1).count()
    key_rows = LicenceKey.objects.filter(order_sku="BENCH-1").count()
    distinct_keys = LicenceKey.objects.values("key_hash").distinct().count()
    print(f"stored events        {stored} (distinct ids {distinct}, expected {expected_unique})")
    print(f"statuses             {by_status}")
    print(f"applied exactly once {applied_once} (attempts total {totals['attempts']})")
    print(f"duplicate counters   {totals['duplicates']} (expected {expected_duplicates})")
    print(
        f"licence keys stored  {key_rows} rows, {distinct_keys} distinct (expected {expected_keys})"
    )
    print(f"keys_stored total    {totals['keys']}")
    if stored != expected_unique or distinct != expected_unique:
        problems.append("stored events != unique events sent")
    if applied_once != expected_unique:
        problems.append("not every event was applied exactly once")
    if totals["duplicates"] != expected_duplicates:
        problems.append("duplicate counters do not add up to the repeats sent")
    if not (key_rows == distinct_keys == totals["keys"] == expected_keys):
        problems.append("licence keys not stored exactly once each")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unique", type=int, default=4550)
    parser.add_argument("--duplicates", type=int, default=455, help="repeats of sent events")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--client", choices=CLIENT_KINDS, default="raw", help="how deliveries are sent"
    )
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument(
        "--web-threads", type=int, default=4, help="threads per gunicorn worker (gthread if > 1)"
    )
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument(
        "--worker-during-send",
        action="store_true",
        help="run the Celery worker while sending (default: start it once all are acknowledged, "
        "so the figures measure the receiver and then the processing separately)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="overall bound, seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout

    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    broker_url = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER)
    env = bench_environment(database_url, broker_url)
    os.environ.update(env)
    from bench.common import ensure_database

    ensure_database(database_url)
    secret, events, expected_keys = prepare(args)

    from backoffice.celery import app as celery_app

    celery_app.control.purge()  # a previous interrupted run may have left tasks

    rng = random.Random(args.seed)
    bodies = [json.dumps(event, separators=(",", ":")).encode() for event in events]
    repeats = [rng.choice(bodies) for _ in range(args.duplicates)]
    deliveries = bodies + repeats
    rng.shuffle(deliveries)

    port = free_port()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    web = start_gunicorn(env, port, args.web_workers, args.web_threads, logs)
    worker: subprocess.Popen | None = None

    def start_worker() -> subprocess.Popen:
        return start_celery_worker(env, args.worker_concurrency, logs)

    if args.worker_during_send:
        worker = start_worker()
    failures: dict[str, int] = {}
    try:
        wait_for_port(port, min(deadline, time.monotonic() + 60))
        warm_up(port, args.web_workers * 4, deadline)
        print(
            f"sending {len(deliveries)} deliveries ({len(bodies)} unique, {len(repeats)} repeats) "
            f"to gunicorn {args.web_workers} workers x {args.web_threads} threads on "
            f"127.0.0.1:{port}, {args.concurrency} client threads"
        )
        results, wall = send_all(
            port, secret, deliveries, args.concurrency, deadline, client=args.client
        )
        acked = [r for r in results if r[0] == 200]
        latencies = [r[1] * 1000 for r in acked]
        for status, _, detail in results:
            if status != 200:
                failures[f"{status} {detail}".strip()] = failures.get(f"{status} {detail}", 0) + 1
        duplicates_answered = sum(1 for r in acked if r[2] == "duplicate")
        print(f"acknowledged         {len(acked)}/{len(results)} in {wall:.2f} s")
        print(f"acks per second      {len(acked) / wall:.0f}")
        print(
            f"latency ms           p50 {statistics.median(latencies):.1f}  "
            f"p95 {percentile(latencies, 0.95):.1f}  p99 {percentile(latencies, 0.99):.1f}  "
            f"max {max(latencies):.1f}"
        )
        print(f"answered duplicate   {duplicates_answered}")
        if failures:
            print(f"not acknowledged     {failures}")

        from webhooks.models import WebhookEvent
        from webhooks.services import webhook_events_drain

        if worker is None:
            worker = start_worker()
        worker_time, _ = wait_until_applied(deadline)
        leftover = list(WebhookEvent.objects.filter(status="received").values_list("pk", flat=True))
        webhook_events_drain()
        print(
            f"worker applied all   in {worker_time:.1f} s after the last ack, "
            f"{(len(bodies) - len(leftover)) / worker_time:.0f} events/s"
            f" ({len(leftover)} left to the in-process service)"
        )
    finally:
        stop(web)
        if worker is not None:
            stop(worker)
        celery_app.control.purge()

    problems = verify(len(bodies), len(repeats), expected_keys)
    if failures or problems:
        print("FAILED:", "; ".join(problems) or failures)
        return 1
    print("OK: every unique event stored once and applied once; every key stored once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
