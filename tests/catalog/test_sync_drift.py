"""The catalog sync against a drifting supplier: coerce, quarantine, never stop."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.models import DriftObservation, QuarantinedRecord
from catalog.models import Combination, Product, SyncRun
from catalog.services import catalog_sync

from .test_sync import _writes

pytestmark = pytest.mark.django_db


def _readable(sb) -> set[str]:
    broken = sb.drift.broken
    return {sku for sku in sb.product_skus() if sku not in broken}


def test_drifting_catalog_mirrors_every_readable_product_exactly(drifting):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.quarantined == 3
    readable = _readable(drifting)
    assert set(Product.objects.values_list("sku", flat=True)) == readable
    for product in Product.objects.all():
        upstream = drifting.catalog.get(product.sku)
        item = upstream.to_list_item()
        assert product.in_stock is item["inStock"]
        assert product.net_price == Decimal(item["netPrice"])
        assert product.upstream_updated_at == upstream.updated_at
    wanted = {
        combo.order_sku: (combo.net_price, combo.price, combo.stock == "in_stock")
        for sku in readable
        for combo in drifting.catalog.get(sku).combinations
    }
    mirrored = {
        c.order_sku: (c.net_price, c.price, c.in_stock)
        for c in Combination.objects.filter(product__has_variants=True)
    }
    assert mirrored == wanted


def test_each_broken_record_is_quarantined_with_its_reason_and_redacted_raw_json(drifting):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    rows = {r.ref: r for r in QuarantinedRecord.objects.filter(run_ref=run.quarantine_ref)}
    drift = drifting.drift
    assert rows[drift.bad_price].field == "items[].price"
    assert "'N/A'" in rows[drift.bad_price].reason
    assert rows[drift.bad_price].endpoint == "GET /api/products"
    [unnamed] = [r for r in rows.values() if r.ref.startswith("page ")]
    assert unnamed.ref.startswith("page 1 items[")
    assert unnamed.field == "items[].sku" and "missing field" in unnamed.reason
    assert "sku" not in unnamed.raw and unnamed.raw["ean"]
    detail = rows[drift.bad_detail]
    assert detail.endpoint == "GET /api/products/{sku}"
    assert "call us" in detail.reason
    assert detail.raw["sku"] == drift.bad_detail
    assert len(rows) == 3


def test_resync_of_an_unchanged_drifting_catalog_writes_nothing(drifting):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    with CaptureQueriesContext(connection) as queries:
        run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.created == run.updated == run.price_changes == run.deactivated == 0
    # Only the product whose detail cannot be read is asked again (it may be fixed).
    assert run.detail_requests == 1
    assert _writes(queries.captured_queries) == []


def test_a_quarantined_product_is_never_deactivated_as_vanished(drifting, settings):
    drift = drifting.drift
    # Mirrored while still readable...
    drifting.drift = None
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    assert Product.objects.get(sku=drift.bad_price).is_active
    # ...then unreadable: kept as it was, not taken for withdrawn.
    drifting.drift = drift
    before = Product.objects.get(sku=drift.bad_detail)
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.deactivated == 0
    assert Product.objects.get(sku=drift.bad_price).is_active
    after = Product.objects.get(sku=drift.bad_detail)
    assert after.is_active and after.net_price == before.net_price
    # The record without a sku could be any product: nothing is deactivated this run.
    assert "without a readable sku" in run.error


def test_a_vanished_product_is_deactivated_when_every_quarantined_record_has_a_sku(
    drifting,
):
    drift = drifting.drift
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    drift.no_sku = ""  # the supplier fixed that record
    gone = sorted(_readable(drifting) - {drift.bad_price, drift.bad_detail})[0]
    drifting.remove_product(gone)

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.deactivated == 1
    assert not Product.objects.get(sku=gone).is_active
    assert Product.objects.filter(sku__in=[drift.bad_price], is_active=False).count() == 0


def test_above_the_quarantine_ratio_the_run_fails_and_applies_nothing(drifting, settings):
    settings.UPSTREAM_QUARANTINE_MAX_PERCENT = Decimal("1")  # 3 of 200 is 1.5 %

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.FAILED
    assert "3 of 200 products could not be read (1.5 %, above the 1 % limit)" in run.error
    assert Product.objects.count() == 0
    # The reasons are kept so someone can see why nothing was applied.
    assert QuarantinedRecord.objects.filter(run_ref=run.quarantine_ref).count() == 3


def test_at_the_quarantine_ratio_the_run_still_applies(drifting, settings):
    settings.UPSTREAM_QUARANTINE_MAX_PERCENT = Decimal("1.5")

    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Product.objects.count() == 197


def test_drift_is_counted_per_endpoint_and_field(drifting):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    seen = {(o.endpoint, o.kind, o.field, o.detail): o for o in DriftObservation.objects.all()}
    in_stock = seen[("GET /api/products", "coercion", "items[].inStock", "number -> boolean")]
    # Every list record but the two that fail on an earlier field (sku, price).
    assert in_stock.count == 200 - 2
    assert in_stock.example in (0, 1)
    assert ("GET /api/products", "unknown_field", "items[].ean", "") in seen
    assert (
        "GET /api/products/{sku}",
        "coercion",
        "combinations[].netPrice",
        "number -> decimal",
    ) in seen
    assert (
        "GET /api/products",
        "coercion",
        "items[].updatedAt",
        "epoch seconds (number) -> datetime",
    ) in seen
    assert all(o.first_seen_at <= o.last_seen_at for o in seen.values())

    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    in_stock.refresh_from_db()
    assert in_stock.count == 2 * (200 - 2)


def test_the_contract_sandbox_causes_no_drift_and_no_quarantine(sb):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED and run.quarantined == 0
    assert list(DriftObservation.objects.values_list("endpoint", "kind", "field")) == []
    assert not QuarantinedRecord.objects.exists()


def test_the_finished_run_says_how_many_it_quarantined_and_links_to_them(drifting, client_for):
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    client = client_for("Viewer")
    partial = client.get(f"/catalog/syncs/{run.pk}/progress/").content.decode()
    assert "succeeded, " in partial and "3 quarantined</a>" in partial
    page = client.get("/upstream/", {"run": run.quarantine_ref}).content.decode()
    assert drifting.drift.bad_price in page and "call us" in page


@pytest.mark.parametrize("net_price", ["-5.00", "1E+15", "1e999999999999", 123456789012345])
def test_a_price_no_licence_can_have_is_quarantined_and_the_sync_goes_on(drifting, net_price):
    # Stored, such a price would overflow a money column or break a check constraint,
    # and that failure would stop the whole catalog from being mirrored.
    drift = drifting.drift
    bend = drift.product_detail
    victim = sorted(_readable(drifting))[7]

    def bent(detail):
        out = bend(detail)
        if detail["sku"] == victim:
            out["netPrice"] = net_price
            for combination in out["combinations"]:
                combination["netPrice"] = net_price
        return out

    drift.product_detail = bent
    run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.quarantined == 4
    [record] = QuarantinedRecord.objects.filter(run_ref=run.quarantine_ref, ref=victim)
    assert record.endpoint == "GET /api/products/{sku}"
    assert "not a catalog price" in record.reason
    assert set(Product.objects.values_list("sku", flat=True)) == _readable(drifting) - {victim}
