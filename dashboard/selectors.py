"""Read queries of the home page besides the to-dos: wallet, syncs and the 30-day charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Subquery, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import SyncRun
from wallet import selectors as wallet_selectors
from wallet.models import LedgerEntry

CHART_DAYS = 30
# Entries that move money for orders: a debit per order, a credit per refund.
SPEND_TYPES = (LedgerEntry.Type.ORDER, LedgerEntry.Type.REFUND)


@dataclass(frozen=True)
class BalanceCard:
    balance: Decimal
    currency: str
    tier: str
    discount: Decimal | None
    threshold: Decimal
    synced_at: datetime | None

    @property
    def low(self) -> bool:
        return self.balance < self.threshold


@dataclass(frozen=True)
class SyncCard:
    """The last run of one sync: when it ended (or started), and how."""

    name: str
    at: datetime | None
    ok: bool | None  # None: never ran, or still running
    outcome: str
    url: str


def balance_card() -> BalanceCard | None:
    latest = wallet_selectors.wallet_latest()
    if latest is None:
        return None
    return BalanceCard(
        balance=latest.balance,
        currency=latest.currency,
        tier=latest.tier,
        discount=latest.discount,
        threshold=settings.LOW_BALANCE_THRESHOLD,
        synced_at=latest.synced_at,
    )


def catalog_sync_card() -> SyncCard:
    url = reverse("catalog:sync_runs")
    run = catalog_selectors.sync_runs().exclude(status=SyncRun.Status.SKIPPED).first()
    if run is None:
        return SyncCard("Catalog", None, None, "Never synced", url)
    if run.is_running:
        return SyncCard("Catalog", run.started_at, None, "Running", url)
    ok = run.status == SyncRun.Status.SUCCEEDED
    outcome = (
        f"{run.seen:,} products seen, {run.price_changes:,} price changes"
        if ok
        else f"Run #{run.pk} stopped with an error"
    )
    return SyncCard("Catalog", run.finished_at or run.started_at, ok, outcome, url)


def wallet_sync_card() -> SyncCard:
    url = reverse("wallet:overview")
    status = wallet_selectors.sync_status()
    if status is None or status.last_attempt_at is None:
        return SyncCard("Wallet", None, None, "Never synced", url)
    failing = status.failures_in_a_row > 0
    if failing:
        tries = status.failures_in_a_row
        return SyncCard(
            "Wallet",
            status.last_error_at or status.last_attempt_at,
            False,
            f"Failed {tries} time{'s' if tries != 1 else ''} in a row",
            url,
        )
    return SyncCard(
        "Wallet",
        status.last_success_at,
        True,
        f"{status.last_new_count} new ledger entr{'y' if status.last_new_count == 1 else 'ies'}",
        url,
    )


def _chart_days(today: date) -> list[date]:
    return [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]


def wallet_chart_series(*, now: datetime | None = None) -> dict[str, list[str | None]]:
    """Spend per day and the balance at the end of each day, for the last 30 days in the
    configured time zone. Amounts travel as strings with two decimals (no float rounding);
    a day before the mirror's first entry has no balance (null)."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    days = _chart_days(timezone.localdate(now))
    start = datetime.combine(days[0], datetime.min.time(), tzinfo=tz)
    spend_rows = (
        LedgerEntry.objects.filter(created_at__gte=start, type__in=SPEND_TYPES)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    spend = {row["day"]: -row["total"] for row in spend_rows}
    # The balance after the last entry of each day; one row per day with entries.
    last_positions = (
        LedgerEntry.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(last=Max("position"))
        .order_by()
        .values("last")
    )
    closing_rows = (
        LedgerEntry.objects.filter(position__in=Subquery(last_positions))
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "balance_after")
    )
    closing = {row["day"]: row["balance_after"] for row in closing_rows}
    opening = (
        LedgerEntry.objects.filter(created_at__lt=start)
        .order_by("-position")
        .values_list("balance_after", flat=True)
        .first()
    )
    balance: Decimal | None = opening
    labels: list[str | None] = []
    spent: list[str | None] = []
    balances: list[str | None] = []
    for day in days:
        balance = closing.get(day, balance)
        labels.append(day.isoformat())
        spent.append(_cents(spend.get(day, Decimal("0"))))
        balances.append(None if balance is None else _cents(balance))
    return {"labels": labels, "spend": spent, "balance": balances}


def _cents(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"
