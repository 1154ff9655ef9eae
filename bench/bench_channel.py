"""Benchmark of the sales channel at 20,000 products (~60,000 combinations), PostgreSQL.

Run:  .venv/bin/python bench/bench_channel.py [--products 20000] [--fulfilments 1000]

Uses its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_channel),
created and migrated by the script; its catalog, order and channel tables are emptied at
every run. The catalog comes from the in-process sandbox through the real sync (as in
bench/bench_catalog.py), priced by a default rule. Measured, server side through Django's
test Client (view, SQL, JSON; no network):

* the offers refresh: the first one (every offer inserted) and the one after a sync that
  changed 1 % of prices (a full compare, a few hundred markers moved);
* the offers feed: a full read of every offer a client is offered, paged (1,000 and
  5,000 a page), and a `since` read after the 1 % change;
* fulfilments from stock: one key each, sequential and from 4 threads (one client: its
  row lock makes them take turns, which is the point of the spend guard).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_channel"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")

API_KEY = "bench-key"


def empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE channel_channelcall, channel_callbackattempt, channel_callbackdelivery, "
            "channel_fulfilmentline, channel_fulfilment_stock_keys, channel_fulfilment, "
            "channel_offer, channel_offercounter, channel_apiclient, orders_licencekey, "
            "orders_purchaseorderevent, orders_purchaseorderline, orders_purchaseorder, "
            "orders_customer, catalog_pricechange, catalog_combination, catalog_axis, "
            "catalog_product, catalog_category, catalog_pricingrule, catalog_syncrun "
            "RESTART IDENTITY CASCADE"
        )


def sync() -> None:
    from catalog.models import SyncRun
    from catalog.services import catalog_sync

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise SystemExit(f"sync {run.status}: {run.error}")


def timed(label: str, rows: list[tuple[str, str]], func, detail=lambda result: ""):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func()
    rows.append((label, f"{time.perf_counter() - started:7.2f} s  {detail(result)}"))
    return result


def read_feed(client, since: str | None, limit: int) -> tuple[int, int, str, float]:  # type: ignore[no-untyped-def]
    """Follow the feed to its end: (offers, pages, last cursor, seconds)."""
    started = time.perf_counter()
    count = pages = 0
    cursor = since
    while True:
        params: dict[str, object] = {"limit": limit}
        if cursor:
            params["since"] = cursor
        response = client.get("/channel/v1/offers", params)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        count += len(body["offers"])
        pages += 1
        cursor = body["nextCursor"]
        if not body["hasMore"]:
            return count, pages, cursor, time.perf_counter() - started


def add_stock(skus: list[str], per_sku: int) -> int:
    from backoffice import crypto
    from orders.models import LicenceKey, PurchaseOrder

    po = PurchaseOrder.objects.create(status=PurchaseOrder.Status.DRAFT, note="bench stock")
    rows = []
    for sku in skus:
        for _ in range(per_sku):
            value = f"BENCH-{uuid.uuid4().hex[:20].upper()}"
            rows.append(
                LicenceKey(
                    purchase_order=po,
                    order_sku=sku,
                    **crypto.key_columns(value),
                    source=LicenceKey.Source.RESPONSE,
                )
            )
    LicenceKey.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def fulfil(client, combos, count: int, tag: str) -> None:  # type: ignore[no-untyped-def]
    for n in range(count):
        combo = combos[n % len(combos)]
        price = str((combo.net_price * Decimal("1.3")).quantize(Decimal("0.01")))
        response = client.post(
            "/channel/v1/fulfilments",
            {
                "orderId": f"{tag}-{n}",
                "customer": {"email": f"buyer{n % 50}@example.com", "name": "Bench Buyer"},
                "lines": [{"orderSku": combo.order_sku, "quantity": 1, "price": price}],
            },
            content_type="application/json",
            headers={"Idempotency-Key": f"{tag}-{n}"},
        )
        assert response.status_code == 201, response.content[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--fulfilments", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from bench.common import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    empty_tables()

    from backoffice.upstream import use_transport
    from catalog.models import Combination, PricingRule
    from catalog.signals import combinations_changed
    from channel import receivers, services
    from channel.models import Offer
    from sandbox import Sandbox

    settings.LICENDI_API_KEY = API_KEY
    settings.LICENDI_BASE_URL = "http://sandbox.bench"
    # The refresh is timed on its own here, not inside the sync's commit.
    combinations_changed.disconnect(sender=Combination, dispatch_uid="channel.combinations_changed")

    sb = Sandbox(products=args.products, seed=args.seed, api_key=API_KEY)
    PricingRule.objects.create(
        scope=PricingRule.Scope.DEFAULT,
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=Decimal("30"),
        rounding=PricingRule.Rounding.TO_99,
    )
    rows: list[tuple[str, str]] = []
    with use_transport(sb.transport()):
        sync()
        timed(
            "Offers refresh, first (all inserted)",
            rows,
            services.offers_refresh,
            lambda n: f"({n} offers)",
        )
        timed("Offers refresh, nothing changed", rows, services.offers_refresh, lambda n: f"({n})")
        issued = services.client_create(
            name="Bench shop",
            daily_spend_cap=Decimal("10000000"),
            order_spend_cap=Decimal("100000"),
            approval_threshold=Decimal("100000"),
        )
        api = Client(headers={"Authorization": f"Bearer {issued.token}"})
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE channel_offer")
        full_1000 = read_feed(api, None, 1000)
        full_5000 = read_feed(api, None, 5000)
        changed = sb.change_prices(0.01, seed=args.seed)
        sync()
        timed(
            f"Offers refresh after a 1% change ({len(changed)} units)",
            rows,
            services.offers_refresh,
            lambda n: f"({n} markers moved)",
        )
        since = read_feed(api, full_1000[2], 1000)
    receivers.connect()

    print(
        f"Catalog: {Combination.objects.count()} combinations, "
        f"{Offer.objects.count()} offers; database {settings.DATABASES['default']['NAME']}\n"
    )
    width = max(len(label) for label, _ in rows)
    for label, figure in rows:
        print(f"{label:<{width}}  {figure}")
    print("\nOffers feed (server time, test Client):")
    for label, (count, pages, _, seconds) in (
        ("full read, 1,000 a page", full_1000),
        ("full read, 5,000 a page", full_5000),
        ("since read after the 1% change", since),
    ):
        print(f"  {label:<32} {count:>6} offers  {pages:>3} pages  {seconds:6.2f} s")

    combos = list(
        Combination.objects.filter(is_active=True, in_stock=True).order_by("net_price")[:50]
    )
    add_stock([c.order_sku for c in combos], args.fulfilments * 2 // len(combos) + 2)
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx(
            "fulfil(api, combos, args.fulfilments, 'seq')", globals(), locals(), sort="cumtime"
        )
    else:
        fulfil(api, combos, args.fulfilments, "seq")
    sequential = time.perf_counter() - started

    threads = 4
    per_thread = args.fulfilments // threads
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            fulfil(
                Client(headers={"Authorization": f"Bearer {issued.token}"}),
                combos,
                per_thread,
                f"thr{index}",
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    parallel = time.perf_counter() - started
    if errors:
        raise SystemExit(f"fulfilment failed: {errors[0]!r}")
    print("\nFulfilments from stock (one key each, server time):")
    print(
        f"  sequential: {args.fulfilments} in {sequential:.2f} s = "
        f"{args.fulfilments / sequential:.0f} fulfilments/s"
    )
    print(
        f"  {threads} threads, one client: {per_thread * threads} in {parallel:.2f} s = "
        f"{per_thread * threads / parallel:.0f} fulfilments/s"
    )


if __name__ == "__main__":
    main()
