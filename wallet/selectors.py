"""Read queries of the wallet used by pages, the banner and other apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Subquery

from .models import BalanceSnapshot, Gap, LedgerEntry, SyncStatus


@dataclass(frozen=True)
class WalletLatest:
    balance: Decimal
    currency: str
    tier: str
    discount: Decimal | None
    synced_at: datetime | None  # the last successful read (even when nothing changed)
    changed_at: datetime  # when this balance/tier/discount was first seen


def wallet_latest() -> WalletLatest | None:
    """The latest known balance, tier and discount, or None before the first sync.

    One query: the newest snapshot with the last successful sync time beside it.
    """
    snapshot = (
        BalanceSnapshot.objects.order_by("-recorded_at", "-id")
        .annotate(
            synced_at=Subquery(
                SyncStatus.objects.filter(pk=SyncStatus.SINGLETON_PK).values("last_success_at")[:1]
            )
        )
        .first()
    )
    if snapshot is None:
        return None
    return WalletLatest(
        balance=snapshot.balance,
        currency=snapshot.currency,
        tier=snapshot.tier,
        discount=snapshot.discount,
        synced_at=snapshot.synced_at or snapshot.recorded_at,
        changed_at=snapshot.recorded_at,
    )


def sync_status() -> SyncStatus | None:
    return SyncStatus.objects.filter(pk=SyncStatus.SINGLETON_PK).first()


def gaps_open() -> QuerySet[Gap]:
    return (
        Gap.objects.filter(status=Gap.Status.OPEN)
        .select_related("after_entry", "before_entry")
        .order_by("-detected_at", "-id")
    )


def gaps_all() -> QuerySet[Gap]:
    return Gap.objects.select_related("after_entry", "before_entry").order_by(
        "status", "-detected_at", "-id"
    )


def ledger_entries() -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.order_by("-position")


def gap_counts() -> dict[str, int]:
    return Gap.objects.aggregate(
        open=Count("id", filter=Q(status=Gap.Status.OPEN)),
        closed=Count("id", filter=Q(status=Gap.Status.CLOSED)),
    )
