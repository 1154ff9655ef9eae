"""The wallet ledger page against the Django admin changelist of LedgerEntry.

The ledger is filled by `bench_ledger.fill` (a consistent balance chain over one year, with
the purchase orders it points at) to --ledger-entries rows, and reused while it holds that
many. The reference is the project's `LedgerEntryAdmin`, set in this process only to show
50 rows as the page does.
"""

from __future__ import annotations

from bench.catalog_compare import admin_changelist, bench_client, compare_pages
from bench.harness import Context, Result, comparison, option

option(
    "--ledger-entries",
    type=int,
    default=100_000,
    help="ledger size in entries (default 100,000)",
)


def ledger_filled(entries: int) -> str:
    """The ledger (and the purchase orders it points at) at `entries` rows."""
    from django.db import connection

    from bench.bench_ledger import fill
    from wallet.models import LedgerEntry

    if LedgerEntry.objects.count() == entries:
        return "reused"
    fill(entries, seed=11)
    with connection.cursor() as cursor:
        # As autovacuum would have by the time staff browse (fill() only analyzes).
        cursor.execute("VACUUM ANALYZE wallet_ledgerentry, orders_purchaseorder")
    return "filled"


@comparison("ledger")
def ledger(ctx: Context) -> list[Result]:
    """Ledger page 1 vs the admin changelist of LedgerEntry."""
    from wallet.models import LedgerEntry

    filled = ledger_filled(ctx.args.ledger_entries)
    admin_url = admin_changelist(LedgerEntry)
    ctx.note(
        f"ledger: {LedgerEntry.objects.count():,} entries ({filled}); reference: the admin "
        "changelist of LedgerEntry, 50 rows"
    )
    client = bench_client()
    return compare_pages(
        ctx,
        client,
        [
            ("ledger, first page of 50", "/wallet/ledger/", {}, admin_url, {}),
            (
                "ledger, reference search 'ord-0000c350'",
                "/wallet/ledger/",
                {"q": "ord-0000c350"},
                admin_url,
                {"q": "ord-0000c350"},
            ),
        ],
        "admin changelist",
    )
