"""Benchmark of the catalog mirror at 20,000 products (~60,000 combinations), PostgreSQL.

Run:  .venv/bin/python bench/bench_catalog.py [--products 20000] [--repeat 15]

Uses its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_catalog),
created and migrated by the script; its catalog tables are emptied at every run. The
upstream is the in-process sandbox (`sandbox.Sandbox`) wired through
`backoffice.upstream.use_transport`, so sync times include the fake supplier's own cost
of answering (pure Python, sharing the GIL with the sync). Times:

* syncs: a first full sync, a sync with no upstream change, one after 1% of the
  orderable units changed price, each split into "fetch" (list + details) and "apply"
  (the one transaction);
* a default pricing rule created through the service (reprices every combination);
* pages: server time (Django test Client in process: view, SQL, template; no network),
  median and p95 of --repeat requests, and the SQL query count per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_catalog"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")

API_KEY = "bench-key"


def empty_catalog() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # CASCADE also empties the order lines pointing at combinations (bench data only).
        cursor.execute(
            "TRUNCATE catalog_pricechange, catalog_combination, catalog_axis, catalog_product, "
            "catalog_category, catalog_pricingrule, catalog_syncrun RESTART IDENTITY CASCADE"
        )


class PhaseClock:
    """Timestamps of the sync's phase changes, from the progress callback."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def __call__(self, run) -> None:  # type: ignore[no-untyped-def]
        self.marks.setdefault(run.phase, time.perf_counter())


def timed_sync(label: str, rows: list[tuple[str, str]]) -> object:
    from catalog.models import SyncRun
    from catalog.services import catalog_sync

    clock = PhaseClock()
    started = time.perf_counter()
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND, progress=clock)
    total = time.perf_counter() - started
    if run.status != SyncRun.Status.SUCCEEDED:
        raise SystemExit(f"{label}: sync {run.status}: {run.error}")
    applying = clock.marks.get(SyncRun.Phase.APPLYING, started)
    done = clock.marks.get(SyncRun.Phase.DONE, started + total)
    rows.append(
        (
            label,
            f"{total:7.2f} s  (fetch {applying - started:6.2f} s, apply {done - applying:5.2f} s)"
            f"  details={run.detail_requests} created={run.created} updated={run.updated}"
            f" price_changes={run.price_changes}",
        )
    )
    return run


def page_timing(client, url: str, params: dict, repeat: int) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # warm caches (templates, brand list plan)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    rows = response.context["table"].paginator.count if response.context else 0
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, len(queries), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from bench.common import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # allows the test Client's host and keeps response.context
    call_command("migrate", verbosity=0)
    empty_catalog()

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from backoffice.upstream import use_transport
    from catalog.models import Category, Combination, PricingRule, Product
    from catalog.services import pricing_rule_create
    from sandbox import Sandbox

    settings.LICENDI_API_KEY = API_KEY
    settings.LICENDI_BASE_URL = "http://sandbox.bench"

    built = time.perf_counter()
    sb = Sandbox(products=args.products, seed=args.seed, api_key=API_KEY)
    print(
        f"Sandbox: {len(sb.product_skus())} products, {len(sb.order_skus())} orderable units "
        f"(built in {time.perf_counter() - built:.1f} s); page size "
        f"{settings.CATALOG_SYNC_PAGE_SIZE}, concurrency {settings.CATALOG_SYNC_CONCURRENCY}; "
        f"database {settings.DATABASES['default']['NAME']}"
    )

    rows: list[tuple[str, str]] = []
    with use_transport(sb.transport()):
        timed_sync("First full sync", rows)
        timed_sync("No-change sync", rows)
        changed = sb.change_prices(0.01, seed=args.seed)
        timed_sync(f"1% change sync ({len(changed)} units)", rows)

    user, _ = get_user_model().objects.get_or_create(username="bench-admin")
    user.groups.set(Group.objects.filter(name="Admin"))
    started = time.perf_counter()
    pricing_rule_create(
        rule=PricingRule(
            scope=PricingRule.Scope.DEFAULT,
            kind=PricingRule.Kind.MARKUP_PERCENT,
            value=Decimal("30"),
            rounding=PricingRule.Rounding.TO_99,
        ),
        user=user,
    )
    rows.append(
        (
            "Default rule created (reprices all)",
            f"{time.perf_counter() - started:7.2f} s  "
            f"({Combination.objects.filter(priced_by_rule__isnull=False).count()} repriced)",
        )
    )

    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would have gathered by the time staff browse.
        cursor.execute("ANALYZE catalog_product, catalog_combination, catalog_pricechange")

    print(
        f"\nMirror: {Product.objects.count()} products, {Combination.objects.count()} "
        "combinations\n"
    )
    width = max(len(label) for label, _ in rows)
    for label, figure in rows:
        print(f"{label:<{width}}  {figure}")

    client = Client()
    client.force_login(user)
    category = Category.objects.get(name="Games")
    pages = [
        ("List, first page (50 rows)", "/catalog/", {}),
        ("List, 100 rows", "/catalog/", {"per_page": 100}),
        ("Search 'windows 11'", "/catalog/", {"q": "windows 11"}),
        ("Search by sku prefix", "/catalog/", {"q": Product.objects.order_by("sku")[500].sku}),
        ("Filter category+in stock", "/catalog/", {"category": category.pk, "in_stock": "true"}),
        ("Filter below min margin", "/catalog/", {"below_margin": "true"}),
        ("Sort margin % ascending", "/catalog/", {"sort": "margin_percent"}),
        ("Sort margin descending", "/catalog/", {"sort": "-margin"}),
        ("Sort name, page 200", "/catalog/", {"sort": "name", "page": 200}),
        ("Price changes (30 days)", "/catalog/price-changes/", {}),
    ]
    print(f"\nServer time, Django test Client, median / p95 of {args.repeat} requests:")
    width = max(len(label) for label, _, _ in pages)
    print(f"{'page':<{width}}  {'median':>8}  {'p95':>8}  {'queries':>7}  {'rows':>6}")
    for label, url, params in pages:
        median, p95, queries, matched = page_timing(client, url, params, args.repeat)
        print(f"{label:<{width}}  {median:6.1f}ms  {p95:6.1f}ms  {queries:>7}  {matched:>6}")


if __name__ == "__main__":
    main()
