"""Continuity audit: missed entries become a gap of exactly the money unaccounted for."""

from decimal import Decimal

import pytest

import licendi
from licendi import parsing
from wallet import services
from wallet.models import Gap, LedgerEntry

pytestmark = pytest.mark.django_db


def place(sandbox, n):
    sku = sandbox.order_skus()[0]
    return [sandbox.place_order(items=[(sku, 1)]) for _ in range(n)]


def entries(raw):
    return [parsing.parse_ledger_entry(item, "ledger") for item in raw]


def test_25_orders_between_two_polls_open_a_gap_of_exactly_the_missing_amount(sandbox, sync):
    sync()
    last_seen = sandbox.ledger[0]["id"]
    place(sandbox, 25)
    sync()

    ledger = sandbox.ledger  # newest first
    unseen = ledger[20:25]  # the five orders the 20-entry window no longer shows
    expected = sum((Decimal(e["amount"]) for e in unseen), Decimal("0.00"))
    gap = Gap.objects.get()
    assert gap.status == Gap.Status.OPEN
    assert gap.kind == Gap.Kind.MISSED
    assert gap.amount == expected
    assert gap.after_entry.upstream_id == last_seen
    assert gap.before_entry.upstream_id == ledger[19]["id"]
    assert LedgerEntry.objects.count() == 21


def test_a_later_full_read_closes_nothing_it_cannot_prove(sandbox, sync):
    sync()
    place(sandbox, 25)
    sync()
    place(sandbox, 3)
    sync()
    sync()
    gap = Gap.objects.get()
    assert gap.status == Gap.Status.OPEN
    assert gap.closed_at is None


def test_importing_the_missing_entries_closes_the_gap(sandbox, sync):
    sync()
    place(sandbox, 25)
    sync()
    missing = sandbox.ledger[20:25]

    result = services.ledger_entries_import(entries=entries(missing))

    gap = Gap.objects.get()
    assert result.new == 5
    assert result.gaps_closed == 1
    assert gap.status == Gap.Status.CLOSED
    assert "chain exactly" in gap.resolution
    chain = list(LedgerEntry.objects.order_by("position"))
    assert [e.upstream_id for e in chain] == [e["id"] for e in reversed(sandbox.ledger)]


def test_a_partial_import_narrows_the_gap_to_what_is_still_missing(sandbox, sync):
    sync()
    place(sandbox, 25)
    sync()
    missing = sandbox.ledger[20:25]  # newest first; the oldest two stay missing
    services.ledger_entries_import(entries=entries(missing[3:]))

    closed = Gap.objects.get(status=Gap.Status.CLOSED)
    still_open = Gap.objects.get(status=Gap.Status.OPEN)
    assert "Narrowed" in closed.resolution
    assert still_open.amount == sum((Decimal(e["amount"]) for e in missing[:3]), Decimal(0))


def test_importing_only_the_newest_missing_entries_narrows_the_gap_from_its_far_side(sandbox, sync):
    sync()
    place(sandbox, 25)
    sync()
    missing = sandbox.ledger[20:25]  # newest first
    services.ledger_entries_import(entries=entries(missing[:2]))

    still_open = Gap.objects.get(status=Gap.Status.OPEN)
    assert still_open.amount == sum((Decimal(e["amount"]) for e in missing[2:]), Decimal(0))
    assert still_open.before_entry.upstream_id == missing[1]["id"]


def test_an_import_that_does_not_chain_to_any_gap_is_refused(sandbox, sync):
    sync()
    place(sandbox, 25)
    sync()
    stray = licendi.LedgerEntry(
        id="led-x", type="adjustment", amount=Decimal("1.00"), balance_after=Decimal("1.23")
    )
    with pytest.raises(services.WalletError):
        services.ledger_entries_import(entries=[stray])
    assert not LedgerEntry.objects.filter(upstream_id="led-x").exists()


def test_an_amount_that_does_not_chain_within_one_read_is_a_mismatch_gap(db):
    now = licendi.LedgerEntry
    read = licendi.Balance(
        balance=Decimal("80.00"),
        ledger=(
            # 95.00 - 5.00 is 90.00, not 80.00: 10.00 left the wallet unexplained.
            now(id="c", type="order", amount=Decimal("-5.00"), balance_after=Decimal("80.00")),
            now(id="b", type="order", amount=Decimal("-5.00"), balance_after=Decimal("95.00")),
            now(id="a", type="topup", amount=Decimal("100.00"), balance_after=Decimal("100.00")),
        ),
    )
    from django.utils import timezone

    services.wallet_balance_record(balance=read, read_at=timezone.now())
    gap = Gap.objects.get()
    assert gap.kind == Gap.Kind.MISMATCH
    assert (gap.after_entry.upstream_id, gap.before_entry.upstream_id) == ("b", "c")
    assert gap.amount == Decimal("-10.00")


def test_money_stays_decimal_end_to_end(db):
    from django.utils import timezone

    def e(id_, amount, after):
        return licendi.LedgerEntry(
            id=id_, type="topup", amount=Decimal(amount), balance_after=Decimal(after)
        )

    read = licendi.Balance(
        balance=Decimal("0.30"),
        ledger=(e("2", "0.20", "0.30"), e("1", "0.10", "0.10")),
    )
    services.wallet_balance_record(balance=read, read_at=timezone.now())
    total = sum(LedgerEntry.objects.values_list("amount", flat=True), Decimal(0))
    assert total == Decimal("0.30")
    assert not Gap.objects.exists()
    assert all(isinstance(v, Decimal) for v in LedgerEntry.objects.values_list("amount", flat=True))
