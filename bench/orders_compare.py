"""The purchase order list against the Django admin changelist of PurchaseOrder.

The orders are the ones `bench_ledger.fill` writes beside the ledger (about 72,000 for
100,000 entries; --ledger-entries), reused while the ledger holds that many. The reference
is the project's `PurchaseOrderAdmin`, set in this process only to show 50 rows as the
list does.
"""

from __future__ import annotations

from bench.catalog_compare import admin_changelist, bench_client, compare_pages
from bench.harness import Context, Result, comparison


@comparison("orders")
def orders(ctx: Context) -> list[Result]:
    """Purchase order list (first page, search) vs the admin changelist of PurchaseOrder."""
    from bench.ledger_compare import ledger_filled
    from orders.models import PurchaseOrder

    filled = ledger_filled(ctx.args.ledger_entries)
    admin_url = admin_changelist(PurchaseOrder)
    ctx.note(
        f"orders: {PurchaseOrder.objects.count():,} purchase orders (with the ledger, {filled}); "
        "reference: the admin changelist of PurchaseOrder, 50 rows"
    )
    client = bench_client()
    return compare_pages(
        ctx,
        client,
        [
            ("PO list, first page of 50", "/orders/", {}, admin_url, {}),
            (
                "PO list, search 'PO-B-00500'",
                "/orders/",
                {"q": "PO-B-00500"},
                admin_url,
                {"q": "PO-B-00500"},
            ),
        ],
        "admin changelist",
    )
