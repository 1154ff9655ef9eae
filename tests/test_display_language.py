"""One display language: amounts with two decimals, times in the configured zone.

Renders the pages that show money and times with data whose sums and differences carry
more places than two (what SQLite's and PostgreSQL's aggregates hand back), and fails on
any number with three or more decimals, or a time written with a UTC offset, in what a
person reads (scripts holding chart data are left out: they carry plain decimals).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from tests.dashboard import builders as b
from tests.wallet.factories import LedgerEntryFactory
from wallet.models import LedgerEntry

pytestmark = pytest.mark.django_db

LONG_DECIMAL = re.compile(r"\d\.\d{3,}")
UTC_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?(\.\d+)?(\+00:00|Z\b| UTC)")
SCRIPT = re.compile(r"<script\b.*?</script>", re.S)

PAGES = ["/", "/wallet/", "/wallet/ledger/", "/wallet/gaps/", "/wallet/reconciliation/"]


@pytest.fixture
def wallet_with_odd_amounts(settings):
    settings.LOW_BALANCE_THRESHOLD = Decimal("1000.00")
    for amount in ("-186.03", "-0.01", "1234.57", "-33.33"):
        LedgerEntryFactory(type=LedgerEntry.Type.ORDER, amount=Decimal(amount))
    LedgerEntryFactory(type=LedgerEntry.Type.TOPUP, amount=Decimal("1500.10"))
    b.gap(amount="-69.80")
    b.snapshot("123.45")


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_more_than_two_decimals_or_a_utc_time(
    path, wallet_with_odd_amounts, admin_client: Client
):
    response = admin_client.get(path)
    assert response.status_code == 200
    text = SCRIPT.sub("", response.content.decode())
    assert not LONG_DECIMAL.findall(text), LONG_DECIMAL.findall(text)[:5]
    assert not UTC_TIME.findall(text)


def test_ledger_totals_name_types_in_words(wallet_with_odd_amounts, admin_client: Client):
    response = admin_client.get("/wallet/ledger/")
    labels = {row["label"] for row in response.context["totals"]}
    assert labels == {"Order", "Top-up"}
    assert "1,500.10" in response.content.decode()  # the Top-up total
