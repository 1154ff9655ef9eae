"""The catalog pages: bounded queries, filters, sorting, export, permissions, live sync."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.models import Combination, PriceChange, PricingRule, Product, SyncRun
from catalog.services import catalog_sync, pricing_apply

from .factories import PricingRuleFactory

pytestmark = pytest.mark.django_db

LIST = "/catalog/"


@pytest.fixture
def synced(sb):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return sb


def _order_skus(response) -> list[str]:
    return re.findall(r'data-order-sku="([^"]+)"', response.content.decode())


def test_list_issues_the_same_bounded_number_of_queries_whatever_the_page_size(
    synced, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("Viewer")
    client.get(LIST)  # warms the caches: the brand filter's choices, the notification badge
    counts = []
    for per_page in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"per_page": per_page, "sort": "-margin"})
        assert response.status_code == 200
        assert len(_order_skus(response)) == per_page
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        client.get(LIST, {"per_page": 100, "q": "Microsoft", "below_margin": "true"})


def test_brand_choices_are_read_again_only_after_the_catalog_changes(
    synced, client_for, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.signals import combinations_changed

    from .factories import ProductFactory

    def brands(response) -> set[str]:
        return {value for value, _ in response.context["filter"].form.fields["brand"].choices}

    client = client_for("Viewer")
    client.get(LIST)
    ProductFactory(brand="Brand-new Brand")  # brands change only when a sync writes them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"]]
    assert "Brand-new Brand" not in brands(response)

    # What every writer of the catalog sends inside its transaction: nothing changes for
    # the pages until it commits.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        combinations_changed.send(sender=Combination, combination_ids=None)
    assert "Brand-new Brand" not in brands(client.get(LIST))
    for callback in callbacks:
        callback()
    assert "Brand-new Brand" in brands(client.get(LIST))


def test_list_counts_rows_once_until_the_catalog_changes(
    synced, client_for, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries(params: dict[str, str]) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, params)
        assert response.status_code == 200
        sql = [q["sql"] for q in queries.captured_queries]
        return [q for q in sql if q.startswith('SELECT COUNT(*) AS "__count" FROM "catalog_')]

    client = client_for("Viewer")
    assert count_queries({"q": "office"})  # the first time each filter is counted
    assert not count_queries({"q": "office"})
    assert not count_queries({"q": "office", "page": "2", "sort": "-margin"})
    assert count_queries({"q": "windows"})  # another filter has its own count

    # A repricing commits: the counts of the rows it moved are taken again.
    below = {"below_margin": "true"}
    before = client.get(LIST, below).context["table"].paginator.count
    PricingRuleFactory(value=Decimal("5"))  # a 5 % markup: every margin below the minimum
    with django_capture_on_commit_callbacks(execute=True):
        pricing_apply()
    after = client.get(LIST, below).context["table"].paginator.count
    assert after == Combination.objects.filter(is_active=True).count() != before


def test_list_sorts_by_margin_percent_worst_first(synced, client_for):
    PricingRuleFactory(value=Decimal("5"))
    pricing_apply()
    response = client_for("Viewer").get(LIST, {"sort": "margin_percent", "per_page": 100})

    shown = _order_skus(response)
    percents = dict(Combination.objects.values_list("order_sku", "margin_percent"))
    values = [percents[sku] for sku in shown]
    assert values == sorted(values)
    assert values[0] == min(percents.values())


@pytest.mark.parametrize("column", ["name", "net_price", "price", "selling_price", "margin"])
def test_list_sorts_by_each_money_column(synced, client_for, column):
    response = client_for("Viewer").get(LIST, {"sort": f"-{column}", "per_page": 50})
    assert response.status_code == 200
    shown = _order_skus(response)
    field = "product__name" if column == "name" else column
    expected = list(
        Combination.objects.filter(is_active=True)
        .order_by(f"-{field}", "-order_sku" if column == "name" else "pk")
        .values_list(field, flat=True)[:50]
    )
    actual_values = dict(Combination.objects.values_list("order_sku", field))
    assert [actual_values[sku] for sku in shown] == expected


def test_margin_filter_shows_exactly_the_combinations_below_the_minimum(
    synced, client_for, settings
):
    settings.MIN_MARGIN_PERCENT = Decimal("10.0")
    # 8% markup over net gives a 7.41% margin: below 10% for every combination of a brand.
    product = Product.objects.filter(has_variants=True).first()
    PricingRuleFactory(
        scope=PricingRule.Scope.PRODUCT, product=product, kind="markup_percent", value=Decimal("8")
    )
    pricing_apply()
    below = set(
        Combination.objects.filter(is_active=True, margin_percent__lt=Decimal("10")).values_list(
            "order_sku", flat=True
        )
    )
    assert below == set(product.combinations.values_list("order_sku", flat=True))

    response = client_for("Viewer").get(LIST, {"below_margin": "true", "per_page": 100})

    assert set(_order_skus(response)) == below
    assert b"margin-below" in response.content


def test_search_matches_name_sku_and_brand(synced, client_for):
    client = client_for("Viewer")
    product = Product.objects.filter(has_variants=True).first()

    by_sku = _order_skus(client.get(LIST, {"q": product.sku, "per_page": 100}))
    assert set(by_sku) == set(product.combinations.values_list("order_sku", flat=True))

    brand = product.brand
    by_brand = client.get(LIST, {"q": brand.lower(), "per_page": 100})
    expected = Combination.objects.filter(is_active=True, product__brand__icontains=brand)
    assert by_brand.context["table"].paginator.count >= expected.count() > 0


def test_filters_category_stock_variants_and_recent_price_change(synced, client_for):
    client = client_for("Viewer")
    product = Product.objects.filter(has_variants=False).first()

    response = client.get(
        LIST, {"category": product.category_id, "has_variants": "false", "per_page": 100}
    )
    expected = Combination.objects.filter(
        is_active=True, product__category=product.category, product__has_variants=False
    ).count()
    assert response.context["table"].paginator.count == expected

    out = Combination.objects.filter(in_stock=False, is_active=True).count()
    assert client.get(LIST, {"in_stock": "false"}).context["table"].paginator.count == out

    changed = set(synced.change_prices(0.02, seed=4))
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    response = client.get(LIST, {"changed_within": 1, "per_page": 100})
    assert set(_order_skus(response)) == changed


def test_inactive_filter_lists_vanished_products(synced, client_for):
    gone = Product.objects.filter(has_variants=False).first()
    synced.remove_product(gone.sku)
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    client = client_for("Viewer")

    assert gone.sku not in _order_skus(client.get(LIST, {"q": gone.sku}))
    assert _order_skus(client.get(LIST, {"q": gone.sku, "status": "inactive"})) == [gone.sku]


def test_csv_export_holds_every_filtered_row(synced, client_for):
    client = client_for("Finance")  # holds export_data
    product = Product.objects.filter(has_variants=True).first()

    response = client.post(f"{LIST}?q={product.sku}&per_page=25", {"_export": "csv"})

    assert response.status_code == 200
    assert "catalog.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Product", "Options", "Order SKU"]
    assert "Margin %" in header and "Selling (EUR)" in header
    assert header[4] == "Category"
    combos = {c.order_sku: c for c in product.combinations.all()}
    assert {row[2] for row in body} == set(combos)
    row = body[0]
    combo = combos[row[2]]
    assert row[0] == product.name  # plain text, no HTML
    assert row[header.index("Net (EUR)")] == f"{combo.net_price:.2f}"
    assert row[header.index("Margin %")] == f"{combo.margin_percent:.2f}"


def test_page_and_export_read_every_shown_value_with_the_rows_query(synced, client_for):
    """The list reads only the columns it shows (selectors.combination_list): a value a
    column, a rule's description or the export needs and the query left out would be
    read row by row, one query each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    PricingRuleFactory(
        scope=PricingRule.Scope.DEFAULT, value=Decimal("30"), rounding=PricingRule.Rounding.TO_99
    )
    pricing_apply()
    client = client_for("Finance")
    client.get(LIST)  # warms the caches (filter choices, counts)
    counts = {}
    for per_page in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(LIST, {"per_page": per_page})
        counts[per_page] = len(queries)
        assert page.status_code == 200
        assert "Default (every product): net + 30.00%, up to .99" in page.content.decode()
    assert counts[25] == counts[100]
    with CaptureQueriesContext(connection) as queries:
        export = client.post(LIST, {"_export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(export).decode("utf-8-sig"))))
    assert len(rows) - 1 == Combination.objects.filter(is_active=True).count() > 100
    assert len(queries) <= counts[25] + 3  # the export's own audit row, not one per row
    header = rows[0]
    assert {row[header.index("Category")] for row in rows[1:]} - {""}
    assert {row[header.index("Priced by")] for row in rows[1:]} == {
        "Default (every product): net + 30.00%, up to .99"
    }


def test_export_needs_the_export_permission(synced, client_for):
    assert client_for("Viewer").post(LIST, {"_export": "csv"}).status_code == 403
    assert client_for("Viewer").get(LIST).status_code == 200


def test_pages_need_login(client):
    for name in ("product_list", "price_changes", "sync_runs", "rule_list"):
        response = client.get(reverse(f"catalog:{name}"))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_product_detail_shows_the_variant_matrix_and_price_history(synced, client_for):
    product = Product.objects.filter(has_variants=True).first()
    combo = product.combinations.order_by("order_sku").first()
    synced.set_price(combo.order_sku, net_price=combo.net_price + 1, price=combo.price + 2)
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    response = client_for("Viewer").get(f"/catalog/products/{product.sku}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert set(_order_skus(response)) == set(
        product.combinations.values_list("order_sku", flat=True)
    )
    for axis in product.axes.all():
        assert f"<th>{axis.name}</th>" in body
    assert f"?add={combo.order_sku.replace(':', '%3A')}" in body  # PO link
    assert 'id="price-history-data" type="application/json"' in body
    assert "js/catalog.js" in body and "<script>" not in body
    assert client_for("Viewer").get("/catalog/products/nope/").status_code == 404


def test_price_changes_page_shows_the_effect_on_margin(synced, client_for):
    changed = synced.change_prices(0.01, seed=8)
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    response = client_for("Viewer").get(reverse("catalog:price_changes"), {"per_page": 100})

    assert response.status_code == 200
    assert response.context["table"].paginator.count == len(changed) == PriceChange.objects.count()
    change = PriceChange.objects.first()
    assert f"{change.old_margin:.2f} → {change.new_margin:.2f}" in response.content.decode()


def test_sync_runs_page_polls_a_running_sync_and_stops_when_finished(synced, client_for):
    client = client_for("Viewer")
    running = SyncRun.objects.create(
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        trigger=SyncRun.Trigger.BEAT,
        phase=SyncRun.Phase.DETAILS,
        progress_done=40,
        progress_total=200,
    )

    page = client.get(reverse("catalog:sync_runs")).content.decode()
    assert 'hx-trigger="every 2s, live-refresh from:body"' in page
    live_url = f"{reverse('catalog:sync_live')}?after={running.pk - 1}"
    assert f'hx-get="{live_url}' in page
    assert "40 / 200" in client.get(live_url).content.decode()

    SyncRun.objects.filter(pk=running.pk).update(
        status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now()
    )
    finished = client.get(live_url).content.decode()
    assert "hx-trigger" not in finished and 'data-status="succeeded"' in finished
    assert "Sync now" not in page  # a Viewer may not start syncs

    # The single run's own progress partial stops polling the same way.
    partial = client.get(reverse("catalog:sync_run_progress", args=[running.pk])).content
    assert b"hx-trigger" not in partial and b'data-status="succeeded"' in partial


def test_sync_now_queues_the_task_on_commit(sb, client_for, django_capture_on_commit_callbacks):
    client = client_for("Buyer")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("catalog:sync_now"))

    assert response.status_code == 302
    # The sync task, then what the sync's combinations_changed signal queues (the sales
    # channel's offers refresh, a new version of what the catalog list keeps).
    assert len(callbacks) == 3
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.MANUAL and run.status == SyncRun.Status.SUCCEEDED
    assert run.triggered_by.groups.filter(name="Buyer").exists()
    assert client_for("Viewer").post(reverse("catalog:sync_now")).status_code == 403
    assert client_for("Buyer").get(reverse("catalog:sync_now")).status_code == 405


def test_sync_now_while_a_sync_runs_queues_nothing_and_says_so(
    client_for, django_capture_on_commit_callbacks
):
    now = timezone.now()
    running = SyncRun.objects.create(started_at=now, heartbeat_at=now, trigger=SyncRun.Trigger.BEAT)
    client = client_for("Buyer")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("catalog:sync_now"), follow=True)

    assert callbacks == []
    assert f"Sync #{running.pk} is already running." in response.content.decode()
    assert SyncRun.objects.count() == 1


def test_management_command_draws_a_progress_bar(sb):
    out = io.StringIO()
    call_command("catalog_sync", stdout=out)

    text = out.getvalue()
    assert "\r[" in text and "#" in text
    assert "succeeded" in text and f"{len(sb.product_skus())} seen" in text
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.COMMAND


def test_beat_task_runs_the_sync(sb):
    from catalog.tasks import catalog_sync as task

    run_id = task.delay().get()
    assert SyncRun.objects.get(pk=run_id).trigger == SyncRun.Trigger.BEAT
    assert Product.objects.count() == len(sb.product_skus())


def test_xlsx_export_is_a_spreadsheet(synced, client_for):
    response = client_for("Finance").post(f"{LIST}?below_margin=false", {"_export": "xlsx"})

    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    assert response.content[:2] == b"PK"  # a zip container, as xlsx files are


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_search_results_sorted_by_name_like_the_whole_list(synced, client_for, sort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("Viewer")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": "Microsoft", "sort": sort, "per_page": 100})
    # Few matches: they are sorted rather than found along the product name index.
    page_sql = [q["sql"] for q in queries.captured_queries if "LIMIT 100" in q["sql"]]
    assert len(page_sql) == 1 and "|| ''" in page_sql[0].replace("|| %s", "|| ''")
    from django.db.models import Q

    products = Product.objects.filter(
        Q(name__icontains="Microsoft") | Q(brand__icontains="Microsoft")
    )
    matching = Combination.objects.filter(is_active=True, product__in=products)
    keys = ("product__name", "order_sku")
    ordered = matching.order_by(*(f"-{key}" if sort.startswith("-") else key for key in keys))
    expected = list(ordered.values_list("order_sku", flat=True)[:100])
    assert len(expected) > 1
    assert _order_skus(response) == expected


def _search_expected(term: str, **filters) -> list[str]:
    from django.db.models import Q

    products = Product.objects.filter(
        Q(name__icontains=term) | Q(brand__icontains=term) | Q(sku__startswith=term)
    )
    rows = Combination.objects.filter(is_active=True, product__in=products, **filters)
    return list(rows.order_by("product__name", "order_sku").values_list("order_sku", flat=True))


def _search_pages(client, params: dict, pages: int) -> list[str]:
    shown: list[str] = []
    for number in range(1, pages + 1):
        shown += _order_skus(client.get(LIST, {**params, "page": number}))
    return shown


@pytest.fixture
def search_window(monkeypatch):
    """The search window for the few matches of the test catalog (200 products)."""
    from catalog.views import ProductListView

    monkeypatch.setattr(ProductListView, "SEARCH_WINDOW_MIN_ROWS", 0)


def test_a_search_page_is_read_from_its_first_products_by_name(synced, client_for, search_window):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    expected = _search_expected("Microsoft")
    assert len(expected) > 60
    # Two matching products named alike where page 1 of 25 ends: both belong to it.
    names = list(
        Product.objects.filter(name__icontains="Microsoft")
        .order_by("name")
        .values_list("pk", flat=True)
    )
    Product.objects.filter(pk__in=names[23:26]).update(name="Microsoft Same Name")
    expected = _search_expected("Microsoft")
    client = client_for("Viewer")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": "Microsoft", "per_page": 25})
    page_sql = [q["sql"] for q in queries.captured_queries if "LIMIT 25" in q["sql"]]
    assert len(page_sql) == 1 and '"catalog_combination"."product_id" IN (' in page_sql[0]
    assert _order_skus(response) == expected[:25]
    pages = -(-len(expected) // 25)
    assert _search_pages(client, {"q": "Microsoft", "per_page": 25}, pages) == expected


def test_a_search_with_few_matches_sorts_them_all_without_a_window(synced, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("Viewer")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": "Microsoft", "per_page": 25})
    assert not [q for q in queries.captured_queries if '"catalog_product"."name" AS' in q["sql"]]
    assert _order_skus(response) == _search_expected("Microsoft")[:25]


def test_a_search_page_whose_first_products_list_nothing_is_read_from_every_match(
    synced, client_for, search_window
):
    # The first matching products by name have no combination in stock: a page read from
    # them alone would be short, so it is read again from every match.
    first = list(
        Product.objects.filter(name__icontains="Microsoft")
        .order_by("name")
        .values_list("pk", flat=True)[:30]
    )
    Combination.objects.filter(product__in=first).update(in_stock=False)
    expected = _search_expected("Microsoft", in_stock=True)
    assert len(expected) > 25
    client = client_for("Viewer")
    params = {"q": "Microsoft", "in_stock": "true", "per_page": 25}

    response = client.get(LIST, params)

    assert _order_skus(response) == expected[:25]
    assert response.context["table"].page.paginator.count == len(expected)
    pages = -(-len(expected) // 25)
    assert _search_pages(client, params, pages) == expected


def test_a_search_window_keeps_its_products_until_the_catalog_changes(
    synced, client_for, search_window, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.signals import combinations_changed

    def products_read(queries) -> int:
        return len([q for q in queries if '"catalog_product"."name" AS "name"' in q["sql"]])

    client = client_for("Viewer")
    params = {"q": "Microsoft", "per_page": 25}
    with CaptureQueriesContext(connection) as first:
        client.get(LIST, params)
    with CaptureQueriesContext(connection) as again:
        response = client.get(LIST, {**params, "page": 2})
    assert (products_read(first), products_read(again)) == (1, 0)
    assert _order_skus(response) == _search_expected("Microsoft")[25:50]

    # A sync renames the last matching product so that it sorts first.
    last = Product.objects.filter(name__icontains="Microsoft").order_by("-name").first()
    assert last is not None
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=last.pk).update(name="AAA Microsoft first")
        combinations_changed.send(sender=Combination, combination_ids=None)
    response = client.get(LIST, params)
    assert _order_skus(response) == _search_expected("Microsoft")[:25]
    assert _order_skus(response)[0].split("::")[0] == last.sku
