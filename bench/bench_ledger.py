"""Benchmark of the wallet ledger page on 100,000 entries (PostgreSQL).

Run:  .venv/bin/python bench/bench_ledger.py [--entries 100000] [--repeat 15] [--refill]

Uses its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_ledger),
created and migrated by the script; the wallet and order tables in it are refilled
when they do not hold --entries ledger rows (or with --refill). Prints the median and
95th percentile server time (Django test Client, in process: view, queries and template
rendering, no network) and the query count per page.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_ledger"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")

CENT = Decimal("0.01")
START = datetime(2026, 1, 1, tzinfo=UTC)


def fill(entries: int, seed: int) -> dict:
    """Refill the ledger with a consistent balanceAfter chain over one year, plus POs."""
    from django.db import connection

    from backoffice.list_cache import scope_changed
    from orders.models import PurchaseOrder
    from wallet.models import LedgerEntry
    from wallet.selectors import LEDGER_SCOPE
    from wallet.services import POSITION_STEP

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE wallet_gap, wallet_ledgerentry, wallet_balancesnapshot, "
            "orders_purchaseorder RESTART IDENTITY CASCADE"
        )
    seconds = 365 * 24 * 3600
    stamps = sorted(rng.randrange(seconds) for _ in range(entries))
    balance = Decimal("0.00")
    rows, pos = [], []
    now = datetime.now(UTC)
    for i, offset in enumerate(stamps):
        roll = rng.random()
        if i == 0 or roll < 0.08 or balance < 500:
            kind, amount, ref = "topup", Decimal(rng.randrange(1000, 5000)), ""
        elif roll < 0.93:
            kind = "order"
            amount = -(Decimal(rng.randrange(100, 20000)) * CENT)
            ref = f"ord-{i:08x}"
            if rng.random() < 0.85:  # most orders came from the back-office
                pos.append(
                    PurchaseOrder(
                        external_id=f"PO-B-{i:07d}",
                        upstream_id=ref,
                        idempotency_key=uuid.uuid4(),
                        status=PurchaseOrder.Status.DELIVERED,
                        total=-amount,
                    )
                )
        elif roll < 0.97:
            kind, amount = "refund", Decimal(rng.randrange(100, 5000)) * CENT
            ref = f"ord-{max(i - 3, 0):08x}"
        else:
            kind, amount, ref = "adjustment", Decimal(rng.randrange(-500, 500)) * CENT, ""
        balance += amount
        rows.append(
            LedgerEntry(
                upstream_id=f"led-{i + 1:08d}",
                position=(i + 1) * POSITION_STEP,
                created_at=START + timedelta(seconds=offset),
                type=kind,
                amount=amount,
                balance_after=balance,
                reference=ref,
                description=f"Order {ref}" if ref else "Wallet top-up",
                first_seen_at=now,
            )
        )
    started = time.perf_counter()
    LedgerEntry.objects.bulk_create(rows, batch_size=5000)
    PurchaseOrder.objects.bulk_create(pos, batch_size=5000)
    scope_changed(LEDGER_SCOPE)  # bulk_create sends no post_save
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_ledgerentry")
        cursor.execute("ANALYZE orders_purchaseorder")
    return {"insert_seconds": elapsed, "purchase_orders": len(pos)}


def fetch(client, url: str, params: dict) -> tuple[object, bytes]:
    """One request, body included: a streamed export is only produced while it is read.

    An export is a POST of `_export` with the filters in the query string, as the page's
    export button sends it.
    """
    filters = {name: value for name, value in params.items() if name != "_export"}
    if "_export" in params:
        response = client.post(f"{url}?{urlencode(filters)}", {"_export": params["_export"]})
    else:
        response = client.get(url, params)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def measure(client, url: str, params: dict, repeat: int) -> dict:
    """Wall time per request, and how it splits: Python CPU in this process, time in SQL.

    On a loaded machine the wall time mostly measures waiting for a CPU; the CPU and SQL
    columns show what the page itself costs.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fetch(client, url, params)  # warm caches (templates, plans)
    wall, cpu, sql = [], [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            fetch(client, url, params)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response, body = fetch(client, url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    rows = -1
    context = getattr(response, "context", None)
    if context is not None and "table" in context:
        rows = context["table"].paginator.count
    elif "_export" in params:
        rows = body.count(b"\n") - 1
    return {
        "wall": wall,
        "cpu": statistics.median(cpu),
        "sql": statistics.median(sql),
        "queries": len(queries),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--refill", action="store_true", help="refill even if the ledger already has --entries rows"
    )
    args = parser.parse_args()

    from bench.common import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test Client records contexts; allows "testserver"
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    from wallet.models import LedgerEntry

    if args.refill or LedgerEntry.objects.count() != args.entries:
        info = fill(args.entries, args.seed)
        print(
            f"Inserted {args.entries:,} ledger entries and {info['purchase_orders']:,} purchase "
            f"orders in {info['insert_seconds']:.1f} s (bulk_create, batches of 5,000)"
        )
    else:
        print(f"Reusing the {args.entries:,} ledger entries already in the database (--refill)")

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username="bench-finance")
    user.groups.add(Group.objects.get(name="Finance"))
    client = Client()
    client.force_login(user)

    month = {"created_after": "2026-06-01", "created_before": "2026-06-30"}
    scenarios = [
        ("unfiltered, page 1 (50 rows)", {}),
        ("unfiltered, 100 rows per page", {"per_page": 100}),
        ("unfiltered, page 1000", {"page": 1000}),
        ("date range: one month", month),
        ("type = topup", {"type": "topup"}),
        ("reference search: exact order id", {"q": "ord-0000c350"}),
        ("reference search: wide prefix", {"q": "ord-0000a"}),
        ("PO number search", {"q": "PO-B-0050000"}),
        ("unmatched order entries", {"matched": "no"}),
        ("amount range -50..-20", {"amount_min": "-50", "amount_max": "-20"}),
        ("month + type order + unmatched", {**month, "type": "order", "matched": "no"}),
        ("CSV export: one month, orders", {**month, "type": "order", "_export": "csv"}),
    ]
    url = "/wallet/ledger/"
    print()
    header = (
        f"{'scenario':<34} {'rows':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'cpu ms':>7} {'sql ms':>7} {'queries':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, params in scenarios:
        m = measure(client, url, params, args.repeat)
        wall = m["wall"]
        p95 = statistics.quantiles(wall, n=20)[-1] if len(wall) > 1 else wall[0]
        print(
            f"{label:<34} {m['rows']:>8,} {statistics.median(wall):>10.1f} {p95:>8.1f} "
            f"{m['cpu']:>7.1f} {m['sql']:>7.1f} {m['queries']:>8}"
        )
    print(
        f"\n{args.repeat} timed requests per line after one warm-up; every page includes the "
        "totals per type. median/p95: wall time; cpu: Python CPU time of the request "
        "(median); sql: time spent in queries (median)."
    )
    print(f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
