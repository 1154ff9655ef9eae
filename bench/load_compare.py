"""The catalog list under load against the admin changelist, on gunicorn as deployed.

`python -m bench --only catalog_load [--load-clients 8 32] [--load-rounds 3]
[--load-seconds 10]`

gunicorn runs as the Procfile's web process does (3 gthread workers x 4 threads, the
forwarded-allow-ips and access log options) in a process of its own, with DEBUG off and
the cache in Redis (bench/load_settings.py, which is bench/webhooks_settings.py with the
admin reference of bench/load_urls.py), on the harness's database and its catalog
(bench/catalog_compare.py fills or reuses it). Each client thread is a staff user of its
own (a superuser session made here) with one keep-alive httpx client, GETting the same
page again and again for --load-seconds: `/catalog/` (first page of 50) against the admin
changelist of Combination (50 rows), in interleaved rounds (project, admin, admin,
project, ...) at each client count. Throughput is answers over wall time, summed over the
rounds; latencies are each answer's, as a client sees it. Any answer other than 200 ends
the run (an expired session would otherwise be timed as a cheap redirect).

The Redis database of gunicorn's cache is BENCH_BROKER_URL's (bench_webhooks' default
when unset); its output and access log go to var/bench/load-gunicorn.log.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import bench_webhooks as hooks
from bench.catalog_compare import _fill
from bench.harness import Context, Result, Timing, comparison, option

option("--load-clients", type=int, nargs="+", default=[8, 32], help="catalog_load client threads")
option("--load-rounds", type=int, default=3, help="catalog_load interleaved rounds per count")
option("--load-seconds", type=float, default=10.0, help="catalog_load seconds per side per round")

WORKERS, THREADS = 3, 4  # the Procfile's WEB_CONCURRENCY and WEB_THREADS defaults
PROCFILE_OPTIONS = ("--forwarded-allow-ips", "127.0.0.1", "--access-logfile", "-")
PROJECT_PATH = "/catalog/"
ADMIN_PATH = "/admin/catalog/combination/"


def staff_sessions(count: int) -> list[str]:
    """Session keys of `count` logins of one superuser (one staff browser per client)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-load-superuser")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    keys = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        keys.append(client.session.session_key)
    return keys


def get_ok(client: Any, path: str) -> float:
    """GET `path`; milliseconds to the whole answer. Anything but 200 stops the bench."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.headers.get('location')}")
    return elapsed


def drive(clients: list[Any], path: str, seconds: float) -> tuple[int, float, list[float]]:
    """Every client GETs `path` back to back for `seconds`: (answers, wall s, latencies ms)."""
    stop_at = time.perf_counter() + seconds

    def loop(client: Any) -> list[float]:
        latencies = []
        while time.perf_counter() < stop_at:
            latencies.append(get_ok(client, path))
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        per_client = list(pool.map(loop, clients))
    wall = time.perf_counter() - started
    latencies = [ms for client_latencies in per_client for ms in client_latencies]
    return len(latencies), wall, latencies


def measure(port: int, sessions: list[str], ctx: Context, count: int) -> list[Result]:
    import httpx

    clients = [
        httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": key}, timeout=120.0)
        for key in sessions[:count]
    ]
    totals: dict[str, dict[str, Any]] = {
        path: {"answers": 0, "wall": 0.0, "latencies": []} for path in (PROJECT_PATH, ADMIN_PATH)
    }
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:  # connections open, pages warm
            list(pool.map(lambda c: [get_ok(c, p) for p in (PROJECT_PATH, ADMIN_PATH)], clients))
        for round_no in range(ctx.args.load_rounds):
            order = [PROJECT_PATH, ADMIN_PATH]
            for path in order[::-1] if round_no % 2 else order:
                answers, wall, latencies = drive(clients, path, ctx.args.load_seconds)
                totals[path]["answers"] += answers
                totals[path]["wall"] += wall
                totals[path]["latencies"] += latencies
    finally:
        for client in clients:
            client.close()
    ours, theirs = totals[PROJECT_PATH], totals[ADMIN_PATH]
    ours_ms, theirs_ms = Timing(tuple(ours["latencies"])), Timing(tuple(theirs["latencies"]))
    reference = f"admin changelist, same gunicorn ({theirs['answers']} answers)"
    return [
        Result(
            f"catalog list, first page of 50, {count} clients: throughput",
            ours["answers"] / ours["wall"],
            theirs["answers"] / theirs["wall"],
            "req/s",
            better="higher",
            reference_label=reference,
            note=f"{ours['answers']} answers",
        ),
        Result(
            f"catalog list, first page of 50, {count} clients: latency",
            ours_ms.median,
            theirs_ms.median,
            "ms",
            project_p95=ours_ms.p95,
            reference_p95=theirs_ms.p95,
            reference_label=reference,
        ),
    ]


@comparison("catalog_load")
def catalog_load(ctx: Context) -> list[Result]:
    """Catalog list under load (8, 32 clients) vs the admin changelist, gunicorn as deployed."""
    from django.conf import settings
    from django.db import connection

    from catalog.models import Combination, Product

    filled = _fill(ctx.args.products)
    sessions = staff_sessions(max(ctx.args.load_clients))
    env = hooks.bench_environment(
        os.environ["DATABASE_URL"], os.environ.get("BENCH_BROKER_URL", hooks.DEFAULT_BROKER)
    )
    # gunicorn checks the sessions made here: the same key signs their user's hash.
    env.update({"DJANGO_SETTINGS_MODULE": "bench.load_settings", "SECRET_KEY": settings.SECRET_KEY})
    connection.close()
    logs = hooks.ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    port = hooks.free_port()
    web = hooks.start_gunicorn(
        env, port, WORKERS, THREADS, logs, log_name="load-gunicorn.log", extra=PROCFILE_OPTIONS
    )
    results: list[Result] = []
    try:
        hooks.wait_for_port(port, time.monotonic() + 60)
        for count in ctx.args.load_clients:
            results += measure(port, sessions, ctx, count)
    finally:
        hooks.stop(web)
    ctx.note(
        f"catalog_load: {Product.objects.count():,} products, {Combination.objects.count():,} "
        f"combinations ({filled}); gunicorn {WORKERS} gthread workers x {THREADS} threads "
        f"(Procfile options, --preload), DEBUG off, cache in Redis, 127.0.0.1; "
        f"{ctx.args.load_rounds} interleaved rounds of {ctx.args.load_seconds:g} s per side "
        "per client count, one keep-alive httpx client and staff session per client thread"
    )
    return results
