"""The conditions staff are told about, read from the same selectors as the home page.

Each function returns `Alert`s: what to say, where it links, and the dedupe key that makes
one condition one notification per recipient. They only read; `services` stores them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from backoffice.display import format_money
from catalog import selectors as catalog_selectors
from catalog.models import SyncRun
from dashboard import todos
from orders.models import PurchaseOrder
from wallet import selectors as wallet_selectors
from wallet.models import BalanceSnapshot

from .models import NotificationKind

# Events older than this when first seen are history, not news (a fresh install or a
# scan that was down for a while does not notify about last month).
LOOKBACK = timedelta(days=2)


@dataclass(frozen=True)
class Alert:
    kind: str
    dedupe_key: str
    title: str
    link: str
    target_type: str = ""
    target_id: str = ""
    # Holders of the role who must not be told (four eyes: the PO's own creator).
    exclude_user_ids: frozenset[int] = field(default_factory=frozenset)


def _po_alert(
    po: PurchaseOrder,
    kind: str,
    key: str,
    title: str,
    exclude_user_ids: frozenset[int] = frozenset(),
) -> Alert:
    return Alert(
        kind=kind,
        dedupe_key=key,
        title=title,
        link=po.get_absolute_url(),
        target_type="orders.purchaseorder",
        target_id=str(po.pk),
        exclude_user_ids=exclude_user_ids,
    )


def approvals_needed(*, purchase_orders: list[PurchaseOrder] | None = None) -> list[Alert]:
    """One alert per confirmation awaiting approval (a re-confirmation is a new one)."""
    pos = (
        purchase_orders
        if purchase_orders is not None
        else list(todos.purchase_orders_awaiting_approval())
    )
    alerts = []
    for po in pos:
        if po.status != PurchaseOrder.Status.AWAITING_APPROVAL:
            continue
        confirmed = int(po.confirmed_at.timestamp()) if po.confirmed_at else 0
        alerts.append(
            _po_alert(
                po,
                NotificationKind.APPROVAL_NEEDED,
                f"po-{po.pk}-confirmed-{confirmed}",
                f"{po} awaits your approval: {format_money(po.total, po.currency)}",
                exclude_user_ids=frozenset(
                    uid for uid in (po.created_by_id, po.confirmed_by_id) if uid is not None
                ),
            )
        )
    return alerts


def purchase_order_problems(
    *, now: datetime, purchase_orders: list[PurchaseOrder] | None = None
) -> list[Alert]:
    """Failed POs (recently), and POs whose outcome stayed unknown past the bound."""
    if purchase_orders is None:
        failed = list(todos.purchase_orders_failed().filter(updated_at__gte=now - LOOKBACK))
        unknown = list(todos.purchase_orders_unknown_overdue(now=now))
    else:
        failed = [po for po in purchase_orders if po.status == PurchaseOrder.Status.FAILED]
        overdue = set(
            todos.purchase_orders_unknown_overdue(now=now)
            .filter(pk__in=[po.pk for po in purchase_orders])
            .values_list("pk", flat=True)
        )
        unknown = [po for po in purchase_orders if po.pk in overdue]
    alerts = [
        _po_alert(po, NotificationKind.PO_PROBLEM, f"po-{po.pk}-failed", f"{po} failed")
        for po in failed
    ]
    minutes = settings.PO_UNKNOWN_ALERT_MINUTES
    alerts += [
        _po_alert(
            po,
            NotificationKind.PO_PROBLEM,
            f"po-{po.pk}-unknown",
            f"{po}: outcome still unknown after {minutes} minutes",
        )
        for po in unknown
    ]
    return alerts


def low_balance() -> list[Alert]:
    """One alert per spell below the threshold, keyed by the snapshot that started it."""
    threshold = settings.LOW_BALANCE_THRESHOLD
    latest = BalanceSnapshot.objects.order_by("-recorded_at", "-id").first()
    if latest is None or latest.balance >= threshold:
        return []
    last_ok = (
        BalanceSnapshot.objects.filter(balance__gte=threshold)
        .order_by("-recorded_at", "-id")
        .values_list("recorded_at", flat=True)
        .first()
    )
    spell = BalanceSnapshot.objects.filter(balance__lt=threshold)
    if last_ok is not None:
        spell = spell.filter(recorded_at__gt=last_ok)
    start = spell.order_by("recorded_at", "id").first() or latest
    return [
        Alert(
            kind=NotificationKind.LOW_BALANCE,
            dedupe_key=f"balance-low-from-{start.pk}",
            title=(
                f"Wallet balance {format_money(latest.balance, latest.currency)} is below "
                f"{format_money(threshold, latest.currency)}"
            ),
            link=reverse("wallet:overview"),
            target_type="wallet.balancesnapshot",
            target_id=str(start.pk),
        )
    ]


def ledger_gaps(*, now: datetime) -> list[Alert]:
    gaps = list(todos.ledger_gaps_open().filter(detected_at__gte=now - LOOKBACK))
    if not gaps:
        return []
    latest = wallet_selectors.wallet_latest()
    currency = latest.currency if latest is not None else "EUR"
    return [
        Alert(
            kind=NotificationKind.LEDGER_GAP,
            dedupe_key=f"gap-{gap.pk}",
            title=f"New ledger gap: {format_money(gap.amount, currency)} unaccounted for",
            link=reverse("wallet:gaps"),
            target_type="wallet.gap",
            target_id=str(gap.pk),
        )
        for gap in gaps
    ]


def sync_failures() -> list[Alert]:
    """One alert per outage of each sync (failures in a row after a success)."""
    alerts = []
    last_run = SyncRun.objects.exclude(status=SyncRun.Status.SKIPPED).order_by("-started_at", "-id")
    run = last_run.first()
    if run is not None and run.status == SyncRun.Status.FAILED:
        last_ok = (
            SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED)
            .order_by("-started_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        alerts.append(
            Alert(
                kind=NotificationKind.SYNC_FAILED,
                dedupe_key=f"catalog-failing-after-{last_ok or 0}",
                title=f"Catalog sync #{run.pk} failed",
                link=reverse("catalog:sync_runs"),
                target_type="catalog.syncrun",
                target_id=str(run.pk),
            )
        )
    status = wallet_selectors.sync_status()
    if status is not None and status.failures_in_a_row > 0:
        since = int(status.last_success_at.timestamp()) if status.last_success_at else 0
        alerts.append(
            Alert(
                kind=NotificationKind.SYNC_FAILED,
                dedupe_key=f"wallet-failing-after-{since}",
                title="Wallet sync failed: balance and ledger are not being updated",
                link=reverse("wallet:overview"),
                target_type="wallet.syncstatus",
                target_id=str(status.pk),
            )
        )
    return alerts


def margin_drops(*, now: datetime) -> list[Alert]:
    """Per sync run, the combinations its price changes pushed below the minimum margin."""
    changes = (
        todos.price_changes_pushing_below_min_margin(since=now - LOOKBACK)
        .order_by()
        .values("sync_run_id", "changed_at__date")
        .annotate(combinations=Count("combination_id", distinct=True))
    )
    per_run: dict[str, int] = defaultdict(int)
    for row in changes:
        run = row["sync_run_id"]
        key = f"catalog-run-{run}" if run is not None else f"changes-{row['changed_at__date']}"
        per_run[key] += row["combinations"]
    link = todos.margin_drops_url()
    minimum = catalog_selectors.min_margin_percent()
    return [
        Alert(
            kind=NotificationKind.MARGIN_DROP,
            dedupe_key=key,
            title=(
                f"{count} combination{'s' if count != 1 else ''} fell below the minimum "
                f"margin of {minimum} % after a price change"
            ),
            link=link,
            target_type="catalog.syncrun" if key.startswith("catalog-run-") else "",
            target_id=key.removeprefix("catalog-run-") if key.startswith("catalog-run-") else "",
        )
        for key, count in per_run.items()
    ]


def all_alerts(*, now: datetime) -> list[Alert]:
    return [
        *approvals_needed(),
        *purchase_order_problems(now=now),
        *low_balance(),
        *ledger_gaps(now=now),
        *sync_failures(),
        *margin_drops(now=now),
    ]
