"""The offers feed: a full read, then only what changed since a cursor after a sync."""

from decimal import Decimal

import pytest

from catalog.models import Combination, PricingRule, SyncRun
from catalog.services import catalog_sync
from channel import services
from channel.models import Offer

from .conftest import bearer, price_catalog

pytestmark = pytest.mark.django_db
OFFERS = "/channel/v1/offers"


def read_all(api, since=None, limit=1000):
    """Follow nextCursor while hasMore; returns (offers by sku, last cursor, pages)."""
    seen: dict[str, dict] = {}
    pages = 0
    cursor = since
    while True:
        params = {"limit": limit}
        if cursor:
            params["since"] = cursor
        response = api.get(OFFERS, params)
        assert response.status_code == 200, response.content
        body = response.json()
        pages += 1
        for offer in body["offers"]:
            seen[offer["sku"]] = offer
        cursor = body["nextCursor"]
        if not body["hasMore"]:
            return seen, cursor, pages


@pytest.fixture
def synced(sandbox, db, django_capture_on_commit_callbacks):
    """The catalog as a real sync writes it, priced at net + 25 %, offers refreshed."""
    PricingRule.objects.create(
        scope=PricingRule.Scope.DEFAULT,
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=Decimal("25.00"),
    )

    def sync():
        with django_capture_on_commit_callbacks(execute=True):
            run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        return run

    sync()
    return sync


def test_full_read_lists_every_offered_combination_in_small_pages(synced, shop_api):
    offers, cursor, pages = read_all(shop_api, limit=7)
    offered = Combination.objects.filter(is_active=True, in_stock=True, margin_percent__gte=10)
    assert set(offers) == set(offered.values_list("order_sku", flat=True))
    assert pages > 2
    assert all(o["available"] and o["inStock"] for o in offers.values())
    sample = offered.first()
    assert Decimal(offers[sample.order_sku]["price"]) == sample.selling_price
    assert offers[sample.order_sku]["currency"] == "EUR"
    # Nothing changed: a since-read is empty.
    again, same_cursor, _ = read_all(shop_api, since=cursor)
    assert again == {} and same_cursor == cursor


def test_since_a_cursor_only_changes_come_after_a_catalog_sync(sandbox, synced, shop_api):
    _, cursor, _ = read_all(shop_api)
    combos = {c.order_sku: c for c in Combination.objects.filter(is_active=True, in_stock=True)}
    plain = sorted(sku for sku in combos if "::" not in sku)
    repriced, sold_out, removed = plain[0], plain[1], plain[2]
    sandbox.set_price(repriced, net_price=combos[repriced].net_price + Decimal("3.00"))
    sandbox.set_stock(sold_out, "sold_out")
    sandbox.remove_product(removed)

    synced()

    changes, _, _ = read_all(shop_api, since=cursor)
    assert set(changes) == {repriced, sold_out, removed}
    combo = Combination.objects.get(order_sku=repriced)
    assert Decimal(changes[repriced]["price"]) == combo.selling_price
    assert changes[repriced]["available"] is True
    assert changes[sold_out]["available"] is False and changes[sold_out]["inStock"] is False
    assert changes[removed]["available"] is False and changes[removed]["price"] is None


def test_a_repricing_shows_in_the_feed(combos, shop_api, django_capture_on_commit_callbacks):
    _, cursor, _ = read_all(shop_api)
    rule = PricingRule.objects.get(scope=PricingRule.Scope.DEFAULT)
    from catalog.services import pricing_apply

    PricingRule.objects.filter(pk=rule.pk).update(value=Decimal("30.00"))
    with django_capture_on_commit_callbacks(execute=True):
        changed = pricing_apply()
    changes, _, _ = read_all(shop_api, since=cursor)
    assert changed > 0
    # Every priced row changed; the ones not offered (no stock) come as removals.
    assert len(changes) == Offer.objects.filter(sellable=True).count()
    for offer in Offer.objects.filter(sellable=True, in_stock=True):
        assert Decimal(changes[offer.order_sku]["price"]) == offer.selling_price


def test_below_minimum_margin_and_out_of_stock_are_offered_only_when_allowed(
    combos, make_shop, settings
):
    cheap = next(c for c in combos.values() if c.in_stock)
    Combination.objects.filter(pk=cheap.pk).update(selling_price=cheap.net_price, margin_percent=0)
    services.offers_refresh(combination_ids=[cheap.pk])
    strict, _, _ = read_all(bearer(make_shop().token))
    lenient, _, _ = read_all(
        bearer(make_shop(allow_below_margin=True, allow_out_of_stock=True).token)
    )
    out_of_stock = {c.order_sku for c in combos.values() if not c.in_stock}
    assert cheap.order_sku not in strict and not out_of_stock & set(strict)
    assert cheap.order_sku in lenient and out_of_stock <= set(lenient)
    assert lenient[cheap.order_sku]["available"] is True


def test_refresh_twice_changes_nothing_and_markers_only_grow(combos):
    before = dict(Offer.objects.values_list("combination_id", "seq"))
    assert services.offers_refresh() == 0
    combo = next(iter(combos.values()))
    Combination.objects.filter(pk=combo.pk).update(in_stock=not combo.in_stock)
    assert services.offers_refresh() == 1
    after = dict(Offer.objects.values_list("combination_id", "seq"))
    assert after[combo.pk] > max(before.values())
    assert {k: v for k, v in after.items() if k != combo.pk} == {
        k: v for k, v in before.items() if k != combo.pk
    }


def test_a_change_during_a_full_read_comes_with_the_next_since_read(combos, shop_api):
    first = shop_api.get(OFFERS, {"limit": 5}).json()
    assert first["hasMore"]
    seen = {o["sku"] for o in first["offers"]}
    moved = Combination.objects.get(order_sku=sorted(seen)[0])
    Combination.objects.filter(pk=moved.pk).update(in_stock=False)
    services.offers_refresh(combination_ids=[moved.pk])
    _, cursor, _ = read_all(shop_api, since=first["nextCursor"], limit=5)
    changes, _, _ = read_all(shop_api, since=cursor)
    assert changes[moved.order_sku]["available"] is False


@pytest.mark.parametrize(
    "cursor", ["nonsense", "czotMQ", "Zjo1OjE", "!!!", "czo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"]
)
def test_a_forged_cursor_is_a_400_not_a_500(shop_api, cursor):
    response = shop_api.get(OFFERS, {"since": cursor})
    if response.status_code == 200:
        assert response.json()["offers"] == []
    else:
        assert response.status_code == 400
        assert response.json()["error"]["code"] in {"invalid_cursor", "invalid_request"}


def test_unpriced_catalog_offers_nothing(sandbox, db, shop_api):
    from tests.orders.factories import mirror_sandbox_catalog

    mirror_sandbox_catalog(sandbox)
    services.offers_refresh()
    offers, _, _ = read_all(shop_api)
    assert offers == {}
    price_catalog()
    offers, _, _ = read_all(shop_api)
    assert offers


def test_the_dearest_selling_price_a_rule_can_give_is_offered(db):
    # The most an amount rule adds, on the dearest price the catalog takes: the offer
    # copies the catalog's selling price in full instead of overflowing its column.
    from catalog.services import pricing_apply
    from licendi.parsing import MAX_CATALOG_PRICE
    from tests.catalog.factories import CombinationFactory

    dearest = MAX_CATALOG_PRICE - Decimal("0.01")
    combo = CombinationFactory(net_price=dearest, price=dearest, in_stock=True)
    PricingRule.objects.create(
        scope=PricingRule.Scope.DEFAULT,
        kind=PricingRule.Kind.MARKUP_AMOUNT,
        rounding=PricingRule.Rounding.NONE,
        value=Decimal("9999999999.99"),
    )
    pricing_apply()

    assert services.offers_refresh() == 1
    combo.refresh_from_db()
    assert combo.selling_price == Decimal("10099999999.98")
    assert Offer.objects.get(combination=combo).selling_price == combo.selling_price
