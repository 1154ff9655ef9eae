"""The catalog sync against the in-process sandbox: incremental, atomic, one at a time."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Axis, Combination, PriceChange, Product, SyncRun
from catalog.services import catalog_sync
from catalog.services import sync as sync_module

from .conftest import detail_requests

pytestmark = pytest.mark.django_db

CATALOG_TABLES = ("catalog_product", "catalog_combination", "catalog_axis", "catalog_pricechange")


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
        and any(table in q["sql"] for table in CATALOG_TABLES)
    ]


def test_first_sync_mirrors_every_product_and_combination(sb):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    skus = sb.product_skus()
    assert run.seen == run.created == run.detail_requests == len(skus)
    assert detail_requests(sb) == len(skus)
    assert Product.objects.filter(is_active=True).count() == len(skus)
    assert set(Combination.objects.values_list("order_sku", flat=True)) == set(sb.order_skus())

    # A product without variants is ordered by its plain sku: exactly one combination.
    plain = Product.objects.filter(has_variants=False).first()
    assert list(plain.combinations.values_list("order_sku", "options")) == [(plain.sku, [])]
    # A product with variants: combinations as upstream, labels from the axes.
    variant = Product.objects.filter(has_variants=True).first()
    detail = sb.catalog.get(variant.sku)
    assert Axis.objects.filter(product=variant).count() == len(detail.axes)
    combo = detail.combinations[-1]
    mirrored = Combination.objects.get(order_sku=combo.order_sku)
    assert (mirrored.price, mirrored.net_price) == (combo.price, combo.net_price)
    assert mirrored.label == ", ".join(
        axis.options[i] for axis, i in zip(detail.axes, combo.options, strict=True)
    )
    # Without any pricing rule the selling price is the RRP; margins are denormalised.
    assert mirrored.selling_price == combo.price
    assert mirrored.margin == combo.price - combo.net_price
    assert not Combination.objects.filter(selling_price__isnull=True).exists()


def test_first_sync_writes_every_column_of_new_rows(sb):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    product = Product.objects.filter(has_variants=True).first()
    upstream = sb.catalog.get(product.sku)
    assert (product.name, product.brand, product.currency) == (
        upstream.name,
        upstream.brand,
        "EUR",
    )
    assert product.category.name == upstream.category
    assert product.is_active and product.deactivated_at is None
    assert product.first_seen_at == product.last_seen_at is not None
    assert len(product.list_fingerprint) == 64
    combo = product.combinations.order_by("order_sku").first()
    assert combo.is_active and combo.price_changed_at is None
    assert combo.priced_by_rule_id is None and combo.margin_percent is not None
    assert isinstance(combo.options, list) and combo.label
    axes = list(Axis.objects.filter(product=product).order_by("position"))
    assert [(a.name, a.options) for a in axes] == [
        (axis.name, list(axis.options)) for axis in upstream.axes
    ]


def test_a_row_built_for_insertion_must_give_every_column():
    with pytest.raises(TypeError, match="name, options, position"):
        sync_module._new(Axis, {"product_id": 1})


def test_second_sync_without_upstream_change_fetches_no_detail_and_writes_nothing(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    requests_before = detail_requests(sb)

    with CaptureQueriesContext(connection) as queries:
        run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert detail_requests(sb) == requests_before
    assert run.detail_requests == run.created == run.updated == run.price_changes == 0
    assert run.unchanged == run.seen == len(sb.product_skus())
    assert _writes(queries.captured_queries) == []


@pytest.fixture
def page_reads(monkeypatch) -> list[int]:
    """List pages really decoded and parsed (not answered from the client's memo)."""
    from licendi import client as licendi_client
    from licendi import parsing

    licendi_client._READ_PAGES.clear()
    reads: list[int] = []
    real = parsing.parse_page

    def counting(*args, **kwargs):
        reads.append(kwargs["page"])
        return real(*args, **kwargs)

    monkeypatch.setattr(parsing, "parse_page", counting)
    return reads


def test_a_no_change_sync_reads_no_page_again_and_a_later_change_is_still_seen(sb, page_reads):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    pages = len(page_reads)

    again = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    changed = sb.product_skus()[7]
    sb.set_price(changed, net_price=Decimal("3.21"), price=Decimal("4.56"))
    requests_before = detail_requests(sb)
    after = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert pages == 2  # 200 products, 100 a page
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.unchanged == again.seen == len(sb.product_skus())
    assert again.detail_requests == 0
    # The third sync read afresh only the page that holds the changed product.
    assert len(page_reads) == pages + 1
    assert after.status == SyncRun.Status.SUCCEEDED, after.error
    assert after.detail_requests == detail_requests(sb) - requests_before == 1
    assert after.updated == 1
    assert set(
        Combination.objects.filter(product__sku=changed).values_list("net_price", "price")
    ) == {(Decimal("3.21"), Decimal("4.56"))}


def test_a_product_gone_after_a_no_change_sync_is_deactivated(sb, page_reads):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    gone = sb.product_skus()[11]
    sb.remove_product(gone)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.deactivated == 1
    assert not Product.objects.get(sku=gone).is_active
    assert Product.objects.filter(is_active=True).count() == len(sb.product_skus())


def test_price_change_updates_exactly_the_changed_combinations(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    before = dict(Combination.objects.values_list("order_sku", "net_price"))
    changed = set(sb.change_prices(0.01, seed=5))
    changed_products = {sku.partition("::")[0] for sku in changed}
    requests_before = detail_requests(sb)

    with CaptureQueriesContext(connection) as queries:
        run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(changed) == round(len(before) * 0.01) > 0
    assert run.detail_requests == detail_requests(sb) - requests_before == len(changed_products)
    assert run.updated == len(changed_products)
    assert run.price_changes == len(changed)
    recorded = PriceChange.objects.filter(sync_run=run).select_related("combination")
    assert {change.combination.order_sku for change in recorded} == changed
    after = dict(Combination.objects.values_list("order_sku", "net_price"))
    assert {sku for sku in after if after[sku] != before[sku]} == changed
    for change in recorded:
        assert change.old_net_price == before[change.combination.order_sku]
        assert change.new_net_price == after[change.combination.order_sku]
        assert change.combination.price_changed_at is not None
        # Default pricing is the RRP, so the margin after follows the new figures.
        assert change.new_margin == change.new_price - change.new_net_price
    # Only changed products were written.
    product_updates = [sql for sql in _writes(queries.captured_queries) if "catalog_product" in sql]
    assert len(product_updates) == 1  # one batched upsert


def test_vanished_product_becomes_inactive_but_is_kept(sb, client_for):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    gone = Product.objects.filter(has_variants=True).first()
    sb.remove_product(gone.sku)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.deactivated == 1
    gone.refresh_from_db()
    assert not gone.is_active and gone.deactivated_at is not None
    assert gone.combinations.exists()
    assert not gone.combinations.filter(is_active=True).exists()
    # An order line naming one of its combinations still finds it, and so do staff.
    order_sku = gone.combinations.first().order_sku
    assert Combination.objects.get(order_sku=order_sku).product == gone
    page = client_for("Viewer").get(f"/catalog/products/{gone.sku}/")
    assert page.status_code == 200
    assert b"inactive" in page.content


def test_product_that_returns_is_reactivated(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    product = Product.objects.filter(has_variants=True).first()
    # As left by an earlier sync that did not see it.
    Product.objects.filter(pk=product.pk).update(is_active=False, deactivated_at=timezone.now())
    product.combinations.update(is_active=False)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.detail_requests == 1
    product.refresh_from_db()
    assert product.is_active and product.deactivated_at is None
    assert not product.combinations.filter(is_active=False).exists()


def test_sync_retries_server_errors_and_rate_limits_then_completes(sb, sleeps):
    sb.faults.inject(method="GET", path="/api/products", kind="status", status=503, times=1)
    # Detail fetches run in parallel, so any one product may draw every detail fault:
    # four in all stays within the client's four retries wherever they land.
    sb.faults.inject(method="GET", path="/api/products/*", kind="status", status=500, times=2)
    sb.faults.inject(
        method="GET", path="/api/products/*", kind="rate_limit", retry_after=2, times=2
    )

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Product.objects.count() == len(sb.product_skus())
    assert len(sleeps) == 5  # one backoff per failed attempt
    assert sleeps.count(2) == 2  # Retry-After honoured


def test_sync_that_keeps_failing_leaves_the_mirror_intact(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    snapshot = dict(Combination.objects.values_list("order_sku", "net_price"))
    changed = sb.change_prices(0.05, seed=9)
    broken = sorted({sku.partition("::")[0] for sku in changed})[-1]
    sb.faults.inject(method="GET", path=f"/api/products/{broken}", kind="status", times=None)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.FAILED
    assert broken in run.error and "ServerError" in run.error
    assert run.finished_at is not None
    assert dict(Combination.objects.values_list("order_sku", "net_price")) == snapshot
    assert not PriceChange.objects.exists()
    # Once upstream recovers the next run applies everything.
    sb.faults.clear()
    retry = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    assert retry.status == SyncRun.Status.SUCCEEDED, retry.error
    assert retry.price_changes == len(changed)


def test_sync_failing_on_the_list_changes_nothing(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    sb.remove_product(sb.product_skus()[0])
    sb.faults.inject(method="GET", path="/api/products", kind="status", status=502, times=None)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.FAILED
    assert "ServerError" in run.error
    assert not Product.objects.filter(is_active=False).exists()


def test_sync_is_skipped_while_another_holds_the_lock(sb):
    holder = SyncRun.objects.create(
        started_at=timezone.now(), heartbeat_at=timezone.now(), trigger=SyncRun.Trigger.BEAT
    )

    run = catalog_sync(trigger=SyncRun.Trigger.MANUAL)

    assert run.status == SyncRun.Status.SKIPPED
    assert f"#{holder.pk}" in run.error
    assert detail_requests(sb) == 0 and not sb.requests
    assert not Product.objects.exists()


def test_stale_running_sync_is_taken_over(sb, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    dead = SyncRun.objects.create(
        started_at=long_ago, heartbeat_at=long_ago, trigger=SyncRun.Trigger.BEAT
    )

    run = catalog_sync(trigger=SyncRun.Trigger.BEAT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and "taken over" in dead.error


@pytest.mark.django_db(transaction=True)
def test_two_syncs_started_at_once_run_one(sb):
    # Slow listing keeps the first sync holding the lock while the second starts.
    sb.faults.inject(method="GET", path="/api/products", kind="latency", seconds=0.3, times=None)
    barrier = threading.Barrier(2)
    results: list[SyncRun] = []

    def start() -> None:
        try:
            barrier.wait()
            results.append(catalog_sync(trigger=SyncRun.Trigger.BEAT))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(run.status for run in results) == [
        SyncRun.Status.SKIPPED,
        SyncRun.Status.SUCCEEDED,
    ]
    assert Product.objects.count() == len(sb.product_skus())
    assert detail_requests(sb) == len(sb.product_skus())


def test_sync_records_progress_for_the_live_page(sb):
    seen_phases: list[str] = []

    def listener(run: SyncRun) -> None:
        seen_phases.append(run.phase)
        stored = SyncRun.objects.get(pk=run.pk)
        assert stored.status in (SyncRun.Status.RUNNING, SyncRun.Status.SUCCEEDED)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND, progress=listener)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert [p for i, p in enumerate(seen_phases) if i == 0 or seen_phases[i - 1] != p] == [
        SyncRun.Phase.LISTING,
        SyncRun.Phase.DETAILS,
        SyncRun.Phase.APPLYING,
        SyncRun.Phase.DONE,
    ]


def test_stock_change_is_mirrored_without_a_price_change(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    plain = Product.objects.filter(has_variants=False, in_stock=True).first()
    sb.set_stock(plain.sku, "sold_out")

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.updated == 1 and run.price_changes == 0
    assert Combination.objects.get(order_sku=plain.sku).in_stock is False


def test_set_price_records_old_and_new_figures(sb):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    plain = Product.objects.filter(has_variants=False).first()
    old = Combination.objects.get(order_sku=plain.sku)
    sb.set_price(plain.sku, net_price=Decimal("1.00"), price=Decimal("2.00"))

    catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    change = PriceChange.objects.get(combination=old)
    assert (change.old_net_price, change.new_net_price) == (old.net_price, Decimal("1.00"))
    assert (change.old_price, change.new_price) == (old.price, Decimal("2.00"))
    assert change.old_margin == old.margin and change.new_margin == Decimal("1.00")


def test_sync_through_bursts_of_rate_limits_still_mirrors_exactly(sb, sleeps):
    """Many 429s with Retry-After across the detail fetches: the limiter backs off, the
    client retries, and the mirror ends exactly as upstream is."""
    # Each of six products is refused twice (within the client's four retries), the
    # others are answered meanwhile.
    for sku in sb.product_skus()[::30]:
        sb.faults.inject(
            method="GET", path=f"/api/products/{sku}", kind="rate_limit", retry_after=1, times=2
        )

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.detail_requests == len(sb.product_skus())
    assert set(Product.objects.values_list("sku", flat=True)) == set(sb.product_skus())
    assert set(Combination.objects.values_list("order_sku", flat=True)) == set(sb.order_skus())
    assert sleeps.count(1) == 2 * len(sb.product_skus()[::30])  # every Retry-After honoured
    again = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    assert again.status == SyncRun.Status.SUCCEEDED and again.detail_requests == 0


# --- list pages read side by side -------------------------------------------------------


def test_list_pages_answered_out_of_order_still_make_a_complete_pass(sb, settings):
    settings.CATALOG_SYNC_PAGE_SIZE = 20  # ten pages
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    gone = sb.product_skus()[-1]  # on the last page
    sb.remove_product(gone)
    changed = sb.change_prices(0.05, seed=3)
    # Page 2 comes back last; the others do not wait for it.
    sb.faults.inject(method="GET", path="/api/products?page=2&*", kind="latency", seconds=0.5)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.error == ""
    assert run.seen == len(sb.product_skus())
    assert run.deactivated == 1
    assert not Product.objects.get(sku=gone).is_active
    assert run.price_changes == len(changed)
    assert set(Product.objects.filter(is_active=True).values_list("sku", flat=True)) == set(
        sb.product_skus()
    )


def test_a_list_page_that_keeps_failing_fails_the_run_with_its_cause_and_changes_nothing(
    sb, settings
):
    settings.CATALOG_SYNC_PAGE_SIZE = 20
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    sb.remove_product(sb.product_skus()[0])
    sb.change_prices(0.05, seed=4)
    snapshot = dict(Combination.objects.values_list("order_sku", "net_price"))
    sb.faults.inject(
        method="GET", path="/api/products?page=6&*", kind="status", status=502, times=None
    )

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.FAILED
    assert "ServerError" in run.error and "page=6" in run.error
    assert not Product.objects.filter(is_active=False).exists()
    assert dict(Combination.objects.values_list("order_sku", "net_price")) == snapshot
    assert not PriceChange.objects.exists()


def test_a_rate_limited_list_page_is_retried_after_its_retry_after(sb, settings, sleeps):
    settings.CATALOG_SYNC_PAGE_SIZE = 20
    sb.faults.inject(
        method="GET", path="/api/products?page=7&*", kind="rate_limit", retry_after=4, times=1
    )

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert sleeps == [4]
    assert run.seen == run.created == len(sb.product_skus())
    page_7 = [path for method, path in sb.requests if path.startswith("/api/products?page=7&")]
    assert len(page_7) == 2


def test_a_sync_with_no_upstream_change_tells_no_listener_of_changed_combinations(sb):
    from catalog.signals import combinations_changed

    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    told: list[object] = []

    def listener(sender, **kwargs):
        told.append(kwargs["combination_ids"])

    combinations_changed.connect(listener)
    try:
        unchanged = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
        assert unchanged.status == SyncRun.Status.SUCCEEDED and told == []
        sb.change_prices(0.05, seed=5)
        changed = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    finally:
        combinations_changed.disconnect(listener)

    assert changed.price_changes > 0
    assert told == [None]
