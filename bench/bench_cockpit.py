"""Benchmark of the home dashboard and the notifications scan on a year of data (PostgreSQL).

Run:  .venv/bin/python bench/bench_cockpit.py [--orders 20000] [--entries 50000]
      [--combinations 30000] [--notifications 200000] [--repeat 15]

Uses its own database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_cockpit), created, migrated and refilled by the
script. Prints the median and 95th percentile server time (Django test Client in process:
view, queries, template rendering; no network) and the query count of the home page, its
live part and the inbox, and the time of a notifications scan on a table that already
holds --notifications rows (first scan, then the steady state where nothing is new).
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_cockpit"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")


def fill(args: argparse.Namespace) -> list:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from catalog.models import Category, Combination, Product
    from notifications.models import Notification, NotificationKind
    from orders.models import PurchaseOrder
    from wallet.models import BalanceSnapshot, Gap, LedgerEntry
    from webhooks.models import WebhookEvent

    rng = random.Random(7)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_notification, wallet_gap, wallet_ledgerentry, "
            "wallet_balancesnapshot, webhooks_webhookevent, orders_purchaseorder, "
            "catalog_pricechange, catalog_combination, catalog_product, catalog_category, "
            "auth_user RESTART IDENTITY CASCADE"
        )
    users = []
    for n, role in enumerate(["Buyer", "Approver", "Finance", "Admin", "Viewer"] * 6):
        user = User.objects.create_user(f"bench-{n}", f"bench-{n}@example.com", "x")
        user.groups.add(Group.objects.get(name=role))
        users.append(user)
    statuses = [s for s, _ in PurchaseOrder.Status.choices if s != "draft"]
    PurchaseOrder.objects.bulk_create(
        PurchaseOrder(
            status=rng.choice(statuses),
            external_id=f"PO-B-{n:06d}",
            idempotency_key=uuid.uuid4(),
            total=Decimal(rng.randrange(100, 200_000)) / 100,
            created_by=rng.choice(users),
            submitted_at=now - timedelta(minutes=rng.randrange(60 * 24 * 365)),
            confirmed_at=now - timedelta(minutes=rng.randrange(60 * 24 * 365)),
        )
        for n in range(args.orders)
    )
    category = Category.objects.create(name="Software")
    products = Product.objects.bulk_create(
        Product(
            sku=str(100000 + n),
            name=f"Product {n}",
            category=category,
            price=Decimal("30.00"),
            net_price=Decimal("20.00"),
            first_seen_at=now,
            last_seen_at=now,
        )
        for n in range(args.combinations // 3)
    )
    Combination.objects.bulk_create(
        Combination(
            product=products[n // 3],
            order_sku=f"{products[n // 3].sku}::{n % 3}",
            price=Decimal("30.00"),
            net_price=Decimal("20.00"),
            selling_price=Decimal("25.00"),
            margin=Decimal("5.00"),
            margin_percent=Decimal(rng.choice(["4.00", "20.00", "20.00", "20.00"])),
            price_changed_at=now - timedelta(hours=rng.randrange(24 * 90)),
        )
        for n in range(len(products) * 3)
    )
    balance = Decimal("100000.00")
    entries = []
    for n in range(args.entries):
        amount = Decimal(-rng.randrange(100, 20_000)) / 100
        balance += amount
        entries.append(
            LedgerEntry(
                upstream_id=f"led-b{n:07d}",
                position=(n + 1) * 1000,
                created_at=now - timedelta(minutes=(args.entries - n) * 2),
                type="order",
                amount=amount,
                balance_after=balance,
                first_seen_at=now,
            )
        )
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)
    BalanceSnapshot.objects.create(balance=Decimal("150.00"), tier="Gold", recorded_at=now)
    first, second = LedgerEntry.objects.order_by("position")[:2]
    Gap.objects.create(
        after_entry=first,
        before_entry=second,
        kind="missed",
        amount=Decimal("-9.99"),
        detected_at=now,
    )
    WebhookEvent.objects.bulk_create(
        WebhookEvent(
            event_id=f"evt_b_{n}",
            type="order.delivered",
            status=rng.choice(["processed", "processed", "failed", "waiting"]),
            received_at=now - timedelta(minutes=n),
        )
        for n in range(10_000)
    )
    kinds = NotificationKind.values
    Notification.objects.bulk_create(
        (
            Notification(
                recipient=users[n % len(users)],
                kind=kinds[n % len(kinds)],
                dedupe_key=f"history-{n}",
                title=f"History {n}",
                link="/",
                created_at=now - timedelta(minutes=n),
                read_at=now if n % 5 else None,
            )
            for n in range(args.notifications)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return users


def timed(fn, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(ctx)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--combinations", type=int, default=30_000)
    parser.add_argument("--notifications", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from bench.common import ensure_database

    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from notifications import services
    from notifications.models import Notification

    setup_test_environment()  # allows the test Client's "testserver" host
    call_command("migrate", verbosity=0)
    users = fill(args)
    admin = next(u for u in users if u.groups.filter(name="Admin").exists())
    client = Client()
    client.force_login(admin)

    def page(path: str):
        def get() -> None:
            cache.clear()  # the badge count uncached: the worst case of every page
            assert client.get(path).status_code == 200

        return get

    print(
        f"{args.orders} POs, {args.entries} ledger entries, {args.combinations} combinations, "
        f"{args.notifications} notifications, {len(users)} staff"
    )
    if os.environ.get("BENCH_SLOW_QUERIES"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            client.get("/")
        for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:6]:
            print(q["time"], q["sql"][:300])
    for label, path in [
        ("home page", "/"),
        ("live part (polled)", "/dashboard/live/"),
        ("inbox", "/notifications/"),
    ]:
        median, p95, queries = timed(page(path), args.repeat)
        print(f"{label:22} median {median:7.1f} ms  p95 {p95:7.1f} ms  {queries} queries")

    # The receivers already notified while the rows were written: start from history only.
    Notification.objects.exclude(dedupe_key__startswith="history-").delete()
    start = time.perf_counter()
    result = services.notifications_scan()
    first = (time.perf_counter() - start) * 1000
    print(
        f"{'scan, first run':22} {first:7.1f} ms  {result.created} notifications created, "
        f"{result.emailed} e-mailed"
    )
    # Steady state: every condition notified and mailed; each scan finds nothing new.
    Notification.objects.filter(email_state="pending").update(email_state="sent")
    median, p95, queries = timed(services.notifications_scan, args.repeat)
    print(f"{'scan, nothing new':22} median {median:7.1f} ms  p95 {p95:7.1f} ms  {queries} queries")
    print(f"notifications now: {Notification.objects.count()}")


if __name__ == "__main__":
    main()
