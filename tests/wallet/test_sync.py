"""Wallet sync: each ledger entry stored once, snapshots on change, failures recorded."""

from decimal import Decimal

import pytest

import licendi
from wallet import selectors
from wallet.models import BalanceSnapshot, LedgerEntry, SyncFailure, SyncStatus

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


def test_snapshot_is_stored_only_when_balance_tier_or_discount_change(sandbox, sync):
    sync()
    sync()
    assert BalanceSnapshot.objects.count() == 1
    order(sandbox)
    sync()
    assert BalanceSnapshot.objects.count() == 2
    assert BalanceSnapshot.objects.latest().balance == sandbox.balance


def test_every_sync_records_its_time_even_when_nothing_changed(sandbox, sync):
    sync()
    first = SyncStatus.objects.get().last_success_at
    sync()
    status = SyncStatus.objects.get()
    assert status.last_success_at > first
    assert status.last_new_count == 0
    assert status.last_read_count == 1


def test_failed_sync_is_recorded_with_its_cause(sandbox, sync, settings):
    settings.LICENDI_MAX_RETRIES = 0
    sync()
    sandbox.faults.inject(method="GET", path="/api/balance", kind="status", status=503, times=None)
    with pytest.raises(licendi.ServerError):
        sync()
    failure = SyncFailure.objects.get()
    assert failure.status_code == 503
    assert failure.error_class == "ServerError"
    status = SyncStatus.objects.get()
    assert status.failures_in_a_row == 1
    assert "503" in status.last_error
    assert "sandbox-test-key" not in status.last_error


def test_wallet_latest_returns_the_newest_snapshot_and_last_sync_time(sandbox, sync):
    assert selectors.wallet_latest() is None
    sync()
    latest = selectors.wallet_latest()
    assert latest.balance == sandbox.balance
    assert latest.currency == "EUR"
    assert latest.tier == "Gold"
    assert latest.discount == Decimal("30.00")
    assert latest.synced_at == SyncStatus.objects.get().last_success_at


def test_task_wallet_sync_runs_the_service(sandbox, db):
    from wallet.tasks import wallet_sync

    order(sandbox, 2)
    outcome = wallet_sync.delay().get()
    assert outcome["new"] == 3
    assert LedgerEntry.objects.count() == 3
