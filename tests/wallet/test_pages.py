"""Wallet pages: permissions, the banner, the ledger's filters, totals, export and query count."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.models import AuditEvent
from wallet.models import LedgerEntry

from .factories import LedgerEntryFactory

pytestmark = pytest.mark.django_db

LEDGER = reverse("wallet:ledger")


@pytest.mark.parametrize(
    "name", ["wallet:overview", "wallet:ledger", "wallet:gaps", "wallet:reconciliation"]
)
def test_anonymous_visitors_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("name", ["wallet:ledger", "wallet:gaps", "wallet:reconciliation"])
def test_viewer_cannot_open_finance_pages(client_for, name):
    assert client_for("Viewer").get(reverse(name)).status_code == 403


def test_viewer_cannot_export_the_ledger(client_for):
    assert client_for("Viewer").post(LEDGER, {"_export": "csv"}).status_code == 403


def test_viewer_sees_the_overview_but_no_refresh_button(client_for, sandbox, sync):
    sync()
    response = client_for("Viewer").get(reverse("wallet:overview"))
    assert response.status_code == 200
    assert b"wallet-balance" in response.content
    assert b"wallet-refresh" not in response.content


def test_refresh_needs_run_syncs_and_post(client_for, sandbox):
    assert client_for("Viewer").post(reverse("wallet:refresh")).status_code == 403
    assert client_for("Finance").get(reverse("wallet:refresh")).status_code == 405


def test_refresh_reads_the_wallet(client_for, sandbox, django_capture_on_commit_callbacks):
    client = client_for("Finance")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("wallet:refresh"))
    assert response.status_code == 302
    assert LedgerEntry.objects.count() == len(sandbox.ledger)


def test_overview_shows_balance_chart_data_and_no_inline_script(client_for, sandbox, sync):
    sync()
    html = client_for("Finance").get(reverse("wallet:overview")).content.decode()
    assert "5,000.00 EUR" in html or "5000.00 EUR" in html
    assert 'id="wallet-balance-data" type="application/json"' in html
    assert "js/wallet.js" in html
    assert "<script>" not in html
    assert 'style="' not in html


def test_low_balance_banner_appears_below_threshold_and_disappears_above(
    client_for, sandbox, sync, settings
):
    settings.LOW_BALANCE_THRESHOLD = Decimal("6000.00")
    sync()
    client = client_for("Viewer")
    # Shown across the back-office, not only on wallet pages.
    home = client.get(reverse("home"))
    assert b'id="low-balance-banner"' in home.content
    assert b"6,000.00 EUR" in home.content
    sandbox.topup(Decimal("1000.01"))
    sync()
    assert b'id="low-balance-banner"' not in client.get(reverse("home")).content


def test_the_banner_costs_one_query_per_page(user_in_role, sandbox, sync):
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from wallet.context_processors import wallet_status

    sync()
    request = RequestFactory().get("/")
    request.user = user_in_role("Viewer")
    with CaptureQueriesContext(connection) as queries:
        state = wallet_status(request)
        again = wallet_status(request)  # a nested template render on the same request
    assert len(queries) == 1
    assert state["wallet_balance"] == sandbox.balance
    assert again == state


def test_open_gaps_are_shown_prominently_on_wallet_pages(client_for, sandbox, sync):
    sync()
    sku = sandbox.order_skus()[0]
    for _ in range(25):
        sandbox.place_order(items=[(sku, 1)])
    sync()
    client = client_for("Finance")
    for name in ("wallet:overview", "wallet:ledger", "wallet:gaps", "wallet:reconciliation"):
        html = client.get(reverse(name)).content.decode()
        assert 'id="wallet-gaps-banner"' in html, name
        assert "poll more often" in html


def make_ledger(n, *, type_=LedgerEntry.Type.ORDER, amount="-1.10"):
    return LedgerEntryFactory.create_batch(n, type=type_, amount=Decimal(amount))


@pytest.mark.parametrize("per_page", [25, 100])
def test_ledger_page_query_count_does_not_grow_with_page_size(
    client_for, django_assert_max_num_queries, per_page
):
    make_ledger(250)
    client = client_for("Finance")
    # session, user, permissions (2), totals (also the row count), rows, their POs, 3 wallet
    # header, banner, notification badge,
    # session save (3)
    with django_assert_max_num_queries(15):
        response = client.get(LEDGER, {"per_page": per_page, "type": "order"})
    assert response.status_code == 200
    assert response.content.count(b"led-f") >= per_page


def test_ledger_totals_per_type_follow_the_filter(client_for):
    make_ledger(3, type_=LedgerEntry.Type.TOPUP, amount="0.10")
    make_ledger(2, type_=LedgerEntry.Type.TOPUP, amount="0.20")
    make_ledger(4, type_=LedgerEntry.Type.ORDER, amount="-0.30")
    response = client_for("Finance").get(LEDGER, {"type": "topup"})
    totals = {row["type"]: row for row in response.context["totals"]}
    assert set(totals) == {"topup"}
    assert totals["topup"]["total"] == Decimal("0.70")
    assert totals["topup"]["count"] == 5
    assert response.context["grand_total"] == Decimal("0.70")


def test_ledger_filters_by_amount_range_and_reference(client_for):
    small = LedgerEntryFactory(amount=Decimal("-5.00"), reference="ord-aaa111")
    LedgerEntryFactory(amount=Decimal("-50.00"), reference="ord-bbb222")
    client = client_for("Finance")
    rows = client.get(LEDGER, {"amount_min": "-10", "amount_max": "0"}).context["table"].data
    assert [r.upstream_id for r in rows] == [small.upstream_id]
    rows = client.get(LEDGER, {"q": "ord-aaa"}).context["table"].data
    assert [r.upstream_id for r in rows] == [small.upstream_id]


def test_bad_filter_input_is_a_form_error_not_a_500(client_for):
    response = client_for("Finance").get(LEDGER, {"amount_min": "lots", "created_after": "x"})
    assert response.status_code == 200
    assert response.context["filter"].errors


def test_csv_export_contains_the_filtered_rows_and_is_audited(client_for):
    make_ledger(3, type_=LedgerEntry.Type.TOPUP, amount="0.10")
    make_ledger(2, type_=LedgerEntry.Type.ORDER, amount="-0.20")
    response = client_for("Finance").post(f"{LEDGER}?type=topup", {"_export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 3
    assert {row["Type"] for row in rows} == {"Top-up"}
    assert sum((Decimal(row["Amount (EUR)"]) for row in rows), Decimal(0)) == Decimal("0.30")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_xlsx_export_works(client_for):
    make_ledger(2)
    response = client_for("Finance").post(LEDGER, {"_export": "xlsx"})
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def test_wallet_code_never_uses_float():
    from pathlib import Path

    import wallet

    root = Path(wallet.__file__).parent
    offenders = [
        str(path) for path in root.rglob("*.py") if "float" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_cent_amounts_from_upstream_add_up_exactly_on_the_ledger_page(sandbox, sync, client_for):
    for amount in ("0.10", "0.20", "0.10", "0.20", "0.10", "0.20"):
        sandbox.topup(Decimal(amount))
    sync()
    response = client_for("Finance").get(
        LEDGER, {"type": "topup", "amount_min": "0", "amount_max": "1"}
    )
    assert response.context["grand_total"] == Decimal("0.90")
    assert str(response.context["grand_total"]) == "0.90"
    assert not response.context["open_gaps"]


def _totals(response) -> dict[str, tuple[int, Decimal]]:
    return {row["type"]: (row["count"], row["total"]) for row in response.context["totals"]}


def test_ledger_totals_are_kept_until_an_entry_is_written(
    client_for, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_ledger(3, type_=LedgerEntry.Type.TOPUP, amount="0.10")
    client = client_for("Finance")
    assert _totals(client.get(LEDGER))["topup"] == (3, Decimal("0.30"))
    with CaptureQueriesContext(connection) as queries:
        assert _totals(client.get(LEDGER))["topup"] == (3, Decimal("0.30"))
    totals_sql = 'SUM("wallet_ledgerentry"."amount")'
    assert not [q for q in queries.captured_queries if totals_sql in q["sql"]]

    with django_capture_on_commit_callbacks(execute=True):
        LedgerEntryFactory(type=LedgerEntry.Type.TOPUP, amount=Decimal("0.05"))
    assert _totals(client.get(LEDGER))["topup"] == (4, Decimal("0.35"))


def test_ledger_totals_follow_entries_the_sync_stores(
    sandbox, sync, client_for, django_capture_on_commit_callbacks
):
    client = client_for("Finance")
    sandbox.place_order(items=[(sandbox.order_skus()[0], 1)])
    with django_capture_on_commit_callbacks(execute=True):
        sync()
    count, total = _totals(client.get(LEDGER))["order"]
    sandbox.place_order(items=[(sandbox.order_skus()[0], 1)])
    with django_capture_on_commit_callbacks(execute=True):
        sync()  # stores the new entry with bulk_create: no post_save
    debit = LedgerEntry.objects.order_by("-position").first()
    assert debit is not None and debit.type == LedgerEntry.Type.ORDER
    assert _totals(client.get(LEDGER))["order"] == (count + 1, total + debit.amount)


def test_ledger_totals_of_the_matched_filter_follow_purchase_orders(client_for):
    from tests.wallet.factories import PurchaseOrderFactory

    LedgerEntryFactory(reference="ord-k1", amount=Decimal("-2.00"))
    client = client_for("Finance")
    assert _totals(client.get(LEDGER, {"matched": "yes"})) == {}
    PurchaseOrderFactory(upstream_id="ord-k1")
    assert _totals(client.get(LEDGER, {"matched": "yes"}))["order"] == (1, Decimal("-2.00"))
