"""The catalog sync against a supplier across a network: the sandbox on a port, 50 ms added.

    .venv/bin/python -m bench --only sync [--sync-products 20000] [--sync-latency-ms 50]
    .venv/bin/python bench/sync_compare.py [same options]       # this comparison alone

Rows:

* full sync of the whole catalog over HTTP, beside the ideal wall time
  (details * latency / ceiling: every request waiting out its latency side by side),
  and the part of it spent reading upstream (list pages side by side, details fetched
  as each page arrives: one pipeline);
* the no-change re-sync (no detail request at all), beside the target of 1 s;
* every list page read side by side against one after another, alternating;
* the peak resident memory of the process (ru_maxrss) after both, beside 300 MiB;
* the project sync against a naive per-row sync (GET each detail, then one
  `update_or_create` per product and per combination), full and no-change, both in
  process against the same sandbox so the ratio is code against code.

The sandbox runs in its own process (`python -m sandbox --latency-ms ...`), so its CPU
is not this process's; the sync uses `CATALOG_SYNC_MAX_CONCURRENCY` as its ceiling.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import Context, Result, comparison, option  # noqa: E402

API_KEY = "bench-sync-key"

option("--sync-products", type=int, default=20_000, help="sync: products upstream")
option("--sync-latency-ms", type=float, default=50.0, help="sync: latency added per request")
option(
    "--sync-naive-products",
    type=int,
    default=1_000,
    help="sync: products for the project-vs-naive ratio (the naive sync is slow)",
)


@contextmanager
def sandbox_on_a_port(products: int, latency_ms: float) -> Iterator[str]:
    """`python -m sandbox` in its own process; yields its URL."""
    from sandbox.process import served

    options = ("--products", str(products), "--seed", "42", "--api-key", API_KEY)
    with served(*options, "--latency-ms", str(latency_ms), "--no-access-log") as url:
        yield url


def empty_catalog() -> None:
    from bench.bench_catalog import empty_catalog as empty

    empty()


def timed_sync() -> tuple[float, Any, float]:
    """(wall time, the run, seconds spent reading upstream: list pages and details).

    The sync fetches details while it still reads list pages (one pipeline), so the
    reading is timed as a whole: from the start to the apply step.
    """
    from bench.bench_catalog import PhaseClock
    from catalog.models import SyncRun
    from catalog.services import catalog_sync

    clock = PhaseClock()
    started = time.perf_counter()
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND, progress=clock)
    elapsed = time.perf_counter() - started
    if run.status != SyncRun.Status.SUCCEEDED:
        raise SystemExit(f"sync {run.status}: {run.error}")
    reading = clock.marks.get(SyncRun.Phase.APPLYING, started + elapsed) - started
    return elapsed, run, reading


@contextmanager
def inline_task_seconds() -> Iterator[list[float]]:
    """Seconds spent in Celery tasks run inline (the bench's settings are eager): work a
    worker does beside the sync in production, such as the channel's offers refresh."""
    from celery.signals import task_postrun, task_prerun

    spent: list[float] = []
    began: dict[str, float] = {}

    def before(task_id: str, **kwargs: Any) -> None:
        began[task_id] = time.perf_counter()

    def after(task_id: str, **kwargs: Any) -> None:
        spent.append(time.perf_counter() - began.pop(task_id, time.perf_counter()))

    task_prerun.connect(before, weak=False)
    task_postrun.connect(after, weak=False)
    try:
        yield spent
    finally:
        task_prerun.disconnect(before)
        task_postrun.disconnect(after)


def list_reads(rounds: int = 3) -> tuple[float, float, int]:
    """Median seconds to read every list page side by side and one after another,
    alternating, with the sync's client and limiter; and the number of pages."""
    import statistics

    from django.conf import settings

    from backoffice.upstream import licendi_client
    from catalog.services.sync import detail_limiter

    size = settings.CATALOG_SYNC_PAGE_SIZE
    side_by_side: list[float] = []
    in_turn: list[float] = []
    pages = 0
    for _ in range(rounds):
        with licendi_client(limiter=detail_limiter()) as client:
            started = time.perf_counter()
            pages = sum(1 for _ in client.product_pages(page_size=size))
            side_by_side.append(time.perf_counter() - started)
        with licendi_client(limiter=detail_limiter()) as client:
            started = time.perf_counter()
            sum(1 for _ in client.iter_product_pages(page_size=size))
            in_turn.append(time.perf_counter() - started)
    return statistics.median(side_by_side), statistics.median(in_turn), pages


def peak_in_flight(url: str) -> int:
    import httpx

    state = httpx.get(f"{url}/_sandbox/state", headers={"X-Api-Key": API_KEY}, timeout=10)
    return int(state.json()["peakInFlight"])


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive_sync() -> int:
    """The reference: one request per detail, one query (or three) per row."""
    from django.utils import timezone

    from backoffice.upstream import licendi_client
    from catalog.models import Category, Combination, Product

    requests = 0
    with licendi_client() as client:
        for page in client.iter_product_pages(page_size=100):
            for item in page.items:
                detail = client.get_product(item.sku)
                requests += 1
                category, _ = Category.objects.get_or_create(name=detail.category)
                product, _ = Product.objects.update_or_create(
                    sku=detail.sku,
                    defaults={
                        "name": detail.name[:300],
                        "category": category,
                        "brand": detail.brand[:100],
                        "price": detail.price,
                        "net_price": detail.net_price,
                        "has_variants": bool(detail.combinations),
                        "in_stock": detail.in_stock,
                        "is_active": True,
                        "first_seen_at": timezone.now(),
                        "last_seen_at": timezone.now(),
                    },
                )
                combos = detail.combinations or []
                if not combos:
                    Combination.objects.update_or_create(
                        order_sku=detail.sku,
                        defaults={
                            "product": product,
                            "price": detail.price,
                            "net_price": detail.net_price,
                            "in_stock": detail.in_stock,
                        },
                    )
                for combo in combos:
                    Combination.objects.update_or_create(
                        order_sku=combo.order_sku,
                        defaults={
                            "product": product,
                            "options": list(combo.options),
                            "price": combo.price,
                            "net_price": combo.net_price,
                            "in_stock": combo.in_stock,
                        },
                    )
    return requests


def over_the_network(ctx: Context) -> list[Result]:
    from django.conf import settings

    products, latency_ms = ctx.args.sync_products, ctx.args.sync_latency_ms
    ceiling = settings.CATALOG_SYNC_MAX_CONCURRENCY
    empty_catalog()
    with sandbox_on_a_port(products, latency_ms) as url:
        settings.LICENDI_BASE_URL, settings.LICENDI_API_KEY = url, API_KEY
        rss_before = peak_rss_mib()
        with inline_task_seconds() as inline:
            full, run, fetching = timed_sync()
        again, rerun, listing = timed_sync()
        rss_after = peak_rss_mib()
        most = peak_in_flight(url)
        paged, sequential, pages = list_reads()
    details = run.detail_requests
    ideal = details * latency_ms / 1000 / ceiling
    ctx.note(
        f"sync: {products:,} products upstream, sandbox on a port (own process) with "
        f"{latency_ms:g} ms added per request; ceiling {ceiling} in flight "
        f"(CATALOG_SYNC_MAX_CONCURRENCY), start {settings.CATALOG_SYNC_CONCURRENCY}; "
        f"{details:,} detail requests; ideal = details * latency / ceiling."
    )
    return [
        Result(
            f"full sync, {products:,} products, {latency_ms:g} ms latency",
            full,
            ideal,
            "s",
            reference_label="ideal: details * latency / ceiling",
            note=f"{details:,} detail requests; target < 60 s; includes "
            f"{sum(inline):.1f} s of tasks the bench runs inline (a worker's in production)",
        ),
        Result(
            "of which reading list pages and details (one pipeline)",
            fetching,
            ideal,
            "s",
            reference_label="ideal: details * latency / ceiling",
            note=f"at most {most} requests in flight upstream",
        ),
        Result(
            "no-change re-sync over the network",
            again,
            1.0,
            "s",
            reference_label="target",
            note=f"{rerun.detail_requests} detail requests; list read in {listing:.2f} s",
        ),
        Result(
            f"reading the {pages} list pages side by side",
            paged,
            sequential,
            "s",
            reference_label="one after another",
            note="median of 3 alternating reads, the sync's client and limiter",
        ),
        Result(
            "peak memory of the process (ru_maxrss)",
            rss_after,
            300.0,
            "MiB",
            reference_label="target",
            note=f"{rss_before:.0f} MiB before the syncs",
        ),
    ]


def against_naive(ctx: Context) -> list[Result]:
    from django.conf import settings

    from backoffice.upstream import use_transport
    from sandbox import Sandbox

    products = ctx.args.sync_naive_products
    sb = Sandbox(products=products, seed=42, api_key=API_KEY)
    settings.LICENDI_BASE_URL, settings.LICENDI_API_KEY = "http://sandbox.bench", API_KEY
    with use_transport(sb.transport()):
        empty_catalog()
        full, _, _ = timed_sync()
        again, _, _ = timed_sync()
        empty_catalog()
        started = time.perf_counter()
        naive_sync()
        naive_full = time.perf_counter() - started
        started = time.perf_counter()
        naive_sync()
        naive_again = time.perf_counter() - started
    ctx.note(
        f"sync vs naive: {products:,} products, in-process sandbox (no latency), "
        "each sync run once, project first."
    )
    return [
        Result(
            f"full sync, {products:,} products, in process",
            full,
            naive_full,
            "s",
            reference_label="naive per-row sync",
        ),
        Result(
            "no-change re-sync, in process",
            again,
            naive_again,
            "s",
            reference_label="naive per-row sync",
        ),
    ]


@comparison("sync")
def sync(ctx: Context) -> list[Result]:
    """Catalog sync over a network with latency, and against a naive per-row sync."""
    return [*over_the_network(ctx), *against_naive(ctx)]


if __name__ == "__main__":
    # Through the harness, so the table and the options are the same as in a full run.
    sys.exit(subprocess.call([sys.executable, "-m", "bench", "--only", "sync", *sys.argv[1:]]))
