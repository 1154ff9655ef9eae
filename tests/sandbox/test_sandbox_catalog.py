"""The seeded catalog: determinism, paging, filtering, variants and prices."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from math import prod

import httpx
import pytest

from sandbox import Sandbox

from .conftest import client_for


def all_items(client: httpx.Client, **params: str) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        body = client.get("/api/products", params={"page": page, "pageSize": 500, **params}).json()
        items.extend(body["items"])
        if page * 500 >= body["total"]:
            return items
        page += 1


def test_same_seed_gives_the_same_catalog() -> None:
    one, two = Sandbox(products=300, seed=5), Sandbox(products=300, seed=5)
    with client_for(one) as a, client_for(two) as b:
        assert all_items(a) == all_items(b)
        sku = next(p["sku"] for p in all_items(a) if p["hasVariants"])
        assert a.get(f"/api/products/{sku}").json() == b.get(f"/api/products/{sku}").json()


def test_another_seed_gives_another_catalog() -> None:
    one, two = Sandbox(products=50, seed=1), Sandbox(products=50, seed=2)
    with client_for(one) as a, client_for(two) as b:
        assert all_items(a) != all_items(b)


def test_pages_cover_every_product_once_in_sku_order(api: httpx.Client) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        body = api.get("/api/products", params={"page": page, "pageSize": 70}).json()
        assert body["page"] == page and body["pageSize"] == 70 and body["total"] == 200
        seen.extend(item["sku"] for item in body["items"])
    assert len(seen) == len(set(seen)) == 200
    assert seen == sorted(seen, key=int)
    assert all(sku.isdigit() for sku in seen)
    past_the_end = api.get("/api/products", params={"page": 4, "pageSize": 70}).json()
    assert past_the_end["items"] == [] and past_the_end["total"] == 200


def test_default_page_size_is_100_and_above_500_is_refused_as_the_spec_says() -> None:
    with client_for(Sandbox(products=700, seed=3)) as client:
        assert len(client.get("/api/products").json()["items"]) == 100
        body = client.get("/api/products", params={"pageSize": 500}).json()
        assert body["pageSize"] == 500 and len(body["items"]) == 500
        refused = client.get("/api/products", params={"pageSize": 501})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_request"
        assert client.get("/api/orders", params={"limit": 201}).status_code == 400


def test_category_filter(api: httpx.Client) -> None:
    totals = 0
    for category in ("Windows", "Office", "Server", "Antivirus", "Games", "Design"):
        items = all_items(api, category=category)
        assert items, category
        assert {item["category"] for item in items} == {category}
        totals += len(items)
    assert totals <= 200
    assert api.get("/api/products", params={"category": "Nope"}).json()["total"] == 0
    lower = api.get("/api/products", params={"category": "windows"}).json()["total"]
    assert lower == api.get("/api/products", params={"category": "Windows"}).json()["total"]


def test_list_item_shape(api: httpx.Client) -> None:
    item = api.get("/api/products").json()["items"][0]
    assert set(item) == {
        "sku", "name", "category", "brand", "platform", "price", "netPrice",
        "currency", "hasVariants", "inStock", "updatedAt",
    }  # fmt: skip
    assert item["currency"] == "EUR"
    assert item["updatedAt"].endswith("Z")


def test_variant_detail_and_order_skus(api: httpx.Client) -> None:
    variants = [item for item in all_items(api) if item["hasVariants"]]
    assert variants
    for item in variants:
        detail = api.get(f"/api/products/{item['sku']}").json()
        axes, combos = detail["axes"], detail["combinations"]
        assert 1 <= len(axes) <= 2
        assert len(combos) == prod(len(axis["options"]) for axis in axes)
        for combo in combos:
            indexes = "-".join(str(i) for i in combo["options"])
            assert combo["orderSku"] == f"{item['sku']}::{indexes}"
            assert all(0 <= i < len(axes[n]["options"]) for n, i in enumerate(combo["options"]))
        cheapest = min(combos, key=lambda c: (Decimal(c["netPrice"]), Decimal(c["price"])))
        assert (item["price"], item["netPrice"]) == (cheapest["price"], cheapest["netPrice"])
        assert item["inStock"] == any(c["inStock"] for c in combos)


def test_plain_product_has_no_axes(api: httpx.Client) -> None:
    plain = next(item for item in all_items(api) if not item["hasVariants"])
    detail = api.get(f"/api/products/{plain['sku']}").json()
    assert detail["axes"] == [] and detail["combinations"] == []
    assert detail["description"]


def test_net_price_is_the_tier_discount_rounded_half_up(sb: Sandbox) -> None:
    factor = Decimal("0.70")
    for sku in sb.order_skus():
        product, combo = sb.catalog.resolve(sku)
        unit = combo or product
        expected = (unit.price * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert unit.net_price == expected, sku


def test_unknown_sku_is_404(api: httpx.Client) -> None:
    response = api.get("/api/products/999999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_variant_share_combinations_and_stock_mix() -> None:
    sb = Sandbox(products=3000, seed=11)
    products = [sb.catalog.get(sku) for sku in sb.product_skus()]
    variants = [p for p in products if p is not None and p.has_variants]
    assert 0.25 < len(variants) / len(products) < 0.42
    average = sum(len(p.combinations) for p in variants) / len(variants)
    assert 5.5 < average < 8.5
    states = [
        (combo or product).stock
        for product, combo in (sb.catalog.resolve(s) for s in sb.order_skus())
    ]
    assert states.count("in_stock") > 0.8 * len(states)
    assert states.count("backorder") > 0 and states.count("sold_out") > 0
    categories = {p.category for p in products if p is not None}
    assert {"Windows", "Office", "Server", "Antivirus", "Games", "Design"} <= categories


def test_twenty_thousand_products_generate_with_orderable_skus() -> None:
    # How fast the generator is belongs to the benches (bench/bench_catalog.py), not here.
    sb = Sandbox(products=20_000, seed=1)
    assert len(sb.product_skus()) == 20_000
    assert sb.catalog.combination_count() >= 20_000
    assert len(sb.order_skus()) > 0


@pytest.mark.parametrize("fraction", [0.01, 0.1])
def test_change_prices_is_deterministic(fraction: float) -> None:
    one, two = Sandbox(products=300, seed=4), Sandbox(products=300, seed=4)
    changed = one.change_prices(fraction=fraction, seed=9)
    assert changed == two.change_prices(fraction=fraction, seed=9)
    assert len(changed) == round(len(one.order_skus()) * fraction)
    fresh = Sandbox(products=300, seed=4)
    for sku in changed:
        before, _ = fresh.catalog.resolve(sku)
        after, _ = one.catalog.resolve(sku)
        old = fresh.catalog.resolve(sku)[1] or before
        new = one.catalog.resolve(sku)[1] or after
        assert new.price != old.price
        assert new.net_price == (new.price * Decimal("0.7")).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert after.updated_at > before.updated_at


def test_set_price_stock_and_remove_show_in_the_api(sb: Sandbox, api: httpx.Client) -> None:
    sku = sb.product_skus()[0]
    before = api.get(f"/api/products/{sku}").json()
    sb.set_price(sku, net_price=Decimal("1.23"), price=Decimal("2.50"))
    after = api.get(f"/api/products/{sku}").json()
    assert (after["netPrice"], after["price"]) == ("1.23", "2.50")
    assert after["updatedAt"] > before["updatedAt"]
    sb.set_stock(sku, "backorder")
    assert api.get(f"/api/products/{sku}").json()["inStock"] is False
    sb.set_stock(sku, "in_stock")
    assert api.get(f"/api/products/{sku}").json()["inStock"] is True
    sb.remove_product(sku)
    assert api.get(f"/api/products/{sku}").status_code == 404
    body = api.get("/api/products", params={"pageSize": 500}).json()
    assert body["total"] == 199 and sku not in {item["sku"] for item in body["items"]}
    with pytest.raises(KeyError):
        sb.remove_product(sku)
