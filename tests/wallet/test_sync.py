"""Wallet sync: each ledger entry stored once, snapshots on change, failures recorded."""

import pytest

from wallet.models import LedgerEntry

pytestmark = pytest.mark.django_db


def order(sandbox, n=1):
    sku = sandbox.order_skus()[0]
    return [sandbox.place_order(items=[(sku, 1)]) for _ in range(n)]


def test_repeated_syncs_store_each_entry_once(sandbox, sync):
    order(sandbox, 3)
    first = sync()
    again = sync()
    assert first.new == 4  # opening balance + 3 orders
    assert again.new == 0
    assert LedgerEntry.objects.count() == 4
    assert set(LedgerEntry.objects.values_list("upstream_id", flat=True)) == {
        e["id"] for e in sandbox.ledger
    }
