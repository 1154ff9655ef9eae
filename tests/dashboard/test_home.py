"""The home page's wallet, sync and chart parts, and the display filters it uses."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from catalog.models import SyncRun
from dashboard import selectors
from tests.wallet.factories import LedgerEntryFactory
from wallet.models import LedgerEntry, SyncStatus

from . import builders as b

pytestmark = pytest.mark.django_db


def test_balance_shows_tier_money_format_and_the_low_state(client_for, settings):
    settings.LOW_BALANCE_THRESHOLD = Decimal("200.00")
    viewer = client_for("Viewer")
    assert "The wallet has not been read yet." in viewer.get("/").content.decode()

    b.snapshot("12345.6", tier="Gold")
    body = viewer.get("/").content.decode()
    assert "12,345.60 EUR" in body and "Gold" in body
    assert 'id="dashboard-low-balance"' not in body

    b.snapshot("150.5", tier="Silver")
    body = viewer.get("/").content.decode()
    assert "150.50 EUR" in body and "Silver" in body
    assert 'id="dashboard-low-balance"' in body and "below 200.00 EUR" in body


def test_sync_cards_show_age_and_outcome(client_for):
    viewer = client_for("Viewer")
    body = viewer.get("/").content.decode()
    assert body.count("Never synced") == 2

    b.sync_run(SyncRun.Status.SUCCEEDED, ago=timedelta(hours=2))
    b.sync_run(SyncRun.Status.FAILED, ago=timedelta(minutes=5))
    SyncStatus.objects.create(
        pk=1,
        last_attempt_at=timezone.now(),
        last_success_at=timezone.now() - timedelta(minutes=1),
        last_new_count=3,
    )
    catalog, wallet = selectors.catalog_sync_card(), selectors.wallet_sync_card()
    assert catalog.ok is False and "stopped with an error" in catalog.outcome
    assert wallet.ok is True and wallet.outcome == "3 new ledger entries"
    body = viewer.get("/").content.decode()
    assert 'data-sync="catalog" data-ok="no"' in body
    assert 'data-sync="wallet" data-ok="yes"' in body
    assert re.search(r"\(5.minutes ago\)", body) and "(a minute ago)" in body

    SyncStatus.objects.filter(pk=1).update(failures_in_a_row=2, last_error_at=timezone.now())
    card = selectors.wallet_sync_card()
    assert card.ok is False and card.outcome == "Failed 2 times in a row"


def test_chart_series_are_per_local_day_with_spend_and_closing_balance(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    timezone.activate("Europe/Madrid")
    try:
        now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        # 23:30 UTC on 29 Nov is 00:30 on 30 Nov in Madrid: it belongs to the 30th.
        LedgerEntryFactory(
            created_at=now - timedelta(days=10),
            type=LedgerEntry.Type.TOPUP,
            amount=Decimal("1000.00"),
            balance_after=Decimal("1000.00"),
        )
        LedgerEntryFactory(
            created_at=datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
            amount=Decimal("-186.03"),
            balance_after=Decimal("813.97"),
        )
        LedgerEntryFactory(
            created_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
            type=LedgerEntry.Type.REFUND,
            amount=Decimal("6.03"),
            balance_after=Decimal("820.00"),
        )
        LedgerEntryFactory(
            created_at=now - timedelta(days=45),
            amount=Decimal("-1.00"),
            balance_after=Decimal("0.00"),
        )
        series = selectors.wallet_chart_series(now=now)
    finally:
        timezone.deactivate()
    assert len(series["labels"]) == 30 and series["labels"][-1] == "2026-12-01"
    day = dict(zip(series["labels"], series["spend"], strict=True))
    balance = dict(zip(series["labels"], series["balance"], strict=True))
    assert day["2026-11-30"] == "180.00"  # 186.03 spent, 6.03 refunded
    assert day["2026-11-29"] == "0.00"
    assert balance["2026-11-29"] == "1000.00"
    assert balance["2026-11-30"] == "820.00" and balance["2026-12-01"] == "820.00"
    # Before the top-up (older than 30 days): the balance was 0.00 then.
    assert balance["2026-11-02"] == "0.00"


def test_home_page_hands_chart_data_to_the_script_without_inline_code(client_for):
    LedgerEntryFactory(amount=Decimal("-10.00"), balance_after=Decimal("90.00"))
    response = client_for("Viewer").get("/")
    body = response.content.decode()
    assert 'id="dashboard-chart-data"' in body and "js/dashboard.js" in body
    found = re.search(r'<script id="dashboard-chart-data"[^>]*>(.*?)</script>', body, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["spend"][-1] == "10.00" and data["balance"][-1] == "90.00"


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (Decimal("-186.030000000000"), "EUR", "-186.03 EUR"),
        (Decimal("1234567.005"), "EUR", "1,234,567.01 EUR"),
        ("69.8", "", "69.80"),
        (0, "USD", "0.00 USD"),
        (None, "EUR", "—"),
        ("not money", "EUR", "—"),
        ("NaN", "EUR", "—"),
    ],
)
def test_money_filter(value, currency, shown):
    rendered = Template("{% load display %}{{ v|money:c }}").render(
        Context({"v": value, "c": currency})
    )
    assert rendered == shown


def test_datetime_filter_uses_the_configured_time_zone(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    moment = datetime(2026, 12, 1, 13, 6, 59, 999, tzinfo=UTC)
    rendered = Template("{% load display %}{{ m|datetime }}|{{ n|datetime }}").render(
        Context({"m": moment, "n": None})
    )
    assert rendered == "2026-12-01 14:06|—"


def test_without_ledger_entries_the_page_says_so_instead_of_drawing_empty_charts(client_for):
    body = client_for("Viewer").get("/").content.decode()
    assert 'id="dashboard-no-chart"' in body
    assert "dashboard-chart-data" not in body and "dashboard-spend-chart" not in body
