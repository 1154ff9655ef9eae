"""Selling prices: rule precedence, rounding, margins, and rules edited by staff."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.models import AuditEvent
from catalog.models import Combination, PricingRule
from catalog.pricing import RuleBook, margin_for, round_price, selling_price_for
from catalog.services import pricing_apply

from .factories import CategoryFactory, CombinationFactory, PricingRuleFactory, ProductFactory

D = Decimal
R = PricingRule.Rounding


@pytest.mark.parametrize(
    ("amount", "rounding", "expected"),
    [
        ("12.345", R.NONE, "12.35"),
        ("12.30", R.TO_99, "12.99"),
        ("12.99", R.TO_99, "12.99"),
        ("13.00", R.TO_99, "13.99"),
        ("12.30", R.TO_49_99, "12.49"),
        ("12.49", R.TO_49_99, "12.49"),
        ("12.50", R.TO_49_99, "12.99"),
        ("12.00", R.TO_49_99, "12.49"),
        ("12.01", R.TO_WHOLE, "13.00"),
        ("12.00", R.TO_WHOLE, "12.00"),
    ],
)
def test_rounding_goes_up_to_the_price_point(amount, rounding, expected):
    assert round_price(D(amount), rounding) == D(expected)


def test_selling_price_for_each_kind():
    net, rrp = D("10.00"), D("19.90")
    assert selling_price_for(net=net, rrp=rrp, rule=None) == rrp
    percent = PricingRule(kind=PricingRule.Kind.MARKUP_PERCENT, value=D("25"), rounding=R.TO_99)
    assert selling_price_for(net=net, rrp=rrp, rule=percent) == D("12.99")
    amount = PricingRule(kind=PricingRule.Kind.MARKUP_AMOUNT, value=D("3.50"), rounding=R.NONE)
    assert selling_price_for(net=net, rrp=rrp, rule=amount) == D("13.50")
    fixed = PricingRule(kind=PricingRule.Kind.FIXED_PRICE, value=D("15.00"), rounding=R.TO_99)
    assert selling_price_for(net=net, rrp=rrp, rule=fixed) == D("15.00")


def test_margin_percent_is_of_the_selling_price_and_undefined_at_zero():
    assert margin_for(selling=D("20.00"), net=D("15.00")) == (D("5.00"), D("25.00"))
    assert margin_for(selling=D("0.00"), net=D("1.00")) == (D("-1.00"), None)


@pytest.mark.django_db
def test_most_specific_rule_wins_product_then_brand_then_category_then_default():
    office = CategoryFactory(name="Office")
    product = ProductFactory(category=office, brand="Microsoft")
    same_brand = ProductFactory(category=office, brand="Microsoft")
    same_category = ProductFactory(category=office, brand="Other")
    elsewhere = ProductFactory(category=CategoryFactory(name="Games"), brand="Other")
    rules = {
        "default": PricingRuleFactory(value=D("10")),
        "category": PricingRuleFactory(
            scope=PricingRule.Scope.CATEGORY, category=office, value=D("20")
        ),
        "brand": PricingRuleFactory(
            scope=PricingRule.Scope.BRAND, brand="Microsoft", value=D("30")
        ),
        "product": PricingRuleFactory(
            scope=PricingRule.Scope.PRODUCT, product=product, value=D("40")
        ),
    }
    book = RuleBook.load()

    def winner(p):  # type: ignore[no-untyped-def]
        return book.rule_for(product_id=p.pk, category_id=p.category_id, brand=p.brand)

    assert winner(product) == rules["product"]
    assert winner(same_brand) == rules["brand"]
    assert winner(same_category) == rules["category"]
    assert winner(elsewhere) == rules["default"]


@pytest.mark.django_db
def test_pricing_apply_denormalises_and_writes_only_what_changed():
    combo = CombinationFactory(net_price=D("10.00"), price=D("15.00"))
    other = CombinationFactory(net_price=D("10.00"), price=D("10.00"))
    assert pricing_apply() == 2
    combo.refresh_from_db()
    assert (combo.selling_price, combo.margin, combo.margin_percent) == (
        D("15.00"),
        D("5.00"),
        D("33.33"),
    )
    assert combo.priced_by_rule is None
    assert pricing_apply() == 0  # nothing to do the second time

    rule = PricingRuleFactory(
        scope=PricingRule.Scope.PRODUCT,
        product=other.product,
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=D("50"),
        rounding=R.TO_99,
    )
    assert pricing_apply() == 1
    other.refresh_from_db()
    assert (other.selling_price, other.margin, other.priced_by_rule) == (
        D("15.99"),
        D("5.99"),
        rule,
    )


@pytest.mark.django_db
def test_zero_selling_price_has_no_margin_percent_and_is_flagged():
    from catalog import selectors

    free = CombinationFactory(net_price=D("0.00"), price=D("0.00"))
    CombinationFactory(net_price=D("10.00"), price=D("20.00"))
    pricing_apply()
    free.refresh_from_db()
    assert free.selling_price == D("0.00") and free.margin_percent is None
    assert list(Combination.objects.filter(selectors.below_min_margin())) == [free]


# --- rules edited by staff -------------------------------------------------------------


@pytest.fixture
def priced(db):
    office = CategoryFactory(name="Office")
    combos = [
        CombinationFactory(
            product=ProductFactory(category=office, brand="Microsoft"),
            net_price=D("10.00"),
            price=D("12.00"),
        )
        for _ in range(3)
    ]
    pricing_apply()
    return combos


def test_creating_a_default_rule_reprices_everything_and_is_audited(admin_client, priced):
    response = admin_client.post(
        "/catalog/pricing-rules/new/",
        {
            "scope": "default",
            "kind": "markup_percent",
            "value": "40",
            "rounding": "to_99",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    rule = PricingRule.objects.get()
    assert set(Combination.objects.values_list("selling_price", flat=True)) == {D("14.99")}
    assert set(Combination.objects.values_list("priced_by_rule", flat=True)) == {rule.pk}
    event = AuditEvent.objects.get(action=AuditEvent.Action.PRICING_RULE_CHANGE)
    assert event.target_id == str(rule.pk)
    assert event.details["change"] == "create" and event.details["repriced"] == 3
    assert rule.updated_by.get_username() == event.actor_name


def test_editing_and_deleting_a_rule_reprices_and_audits(admin_client, priced):
    product = priced[0].product
    rule = PricingRuleFactory(
        scope=PricingRule.Scope.PRODUCT, product=product, kind="fixed_price", value=D("30.00")
    )
    pricing_apply()

    response = admin_client.post(
        f"/catalog/pricing-rules/{rule.pk}/edit/",
        {
            "scope": "product",
            "product_sku": product.sku,
            "kind": "markup_amount",
            "value": "5.00",
            "rounding": "none",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    priced[0].refresh_from_db()
    assert priced[0].selling_price == D("15.00")

    response = admin_client.post(f"/catalog/pricing-rules/{rule.pk}/delete/")
    assert response.status_code == 302
    assert not PricingRule.objects.exists()
    priced[0].refresh_from_db()
    assert priced[0].selling_price == D("12.00") and priced[0].priced_by_rule is None
    changes = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.PRICING_RULE_CHANGE)
        .order_by("id")
        .values_list("details__change", flat=True)
    )
    assert changes == ["update", "delete"]


def test_deactivating_a_rule_hands_pricing_back(admin_client, priced):
    rule = PricingRuleFactory(scope=PricingRule.Scope.BRAND, brand="Microsoft", value=D("100"))
    pricing_apply()
    assert Combination.objects.filter(priced_by_rule=rule).count() == 3

    admin_client.post(
        f"/catalog/pricing-rules/{rule.pk}/edit/",
        {
            "scope": "brand",
            "brand": "Microsoft",
            "kind": "markup_percent",
            "value": "100",
            "rounding": "none",
        },
    )

    rule.refresh_from_db()
    assert not rule.is_active
    assert not Combination.objects.filter(priced_by_rule=rule).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"scope": "default", "kind": "markup_percent", "value": "0"}, "value", "greater than"),
        ({"scope": "default", "kind": "markup_percent", "value": "-5"}, "value", "greater than"),
        ({"scope": "default", "kind": "fixed_price", "value": "9.99"}, "kind", "one product"),
        ({"scope": "category", "kind": "markup_percent", "value": "5"}, "category", "Choose"),
        (
            {"scope": "brand", "brand": "Nobody", "kind": "markup_percent", "value": "5"},
            "brand",
            "No product of brand",
        ),
        (
            {"scope": "product", "product_sku": "nope", "kind": "fixed_price", "value": "5"},
            "product_sku",
            "No product with sku",
        ),
        ({"scope": "default", "kind": "markup_percent", "value": "abc"}, "value", "number"),
    ],
)
def test_invalid_rule_is_a_form_error_not_a_500(admin_client, priced, data, field, message):
    response = admin_client.post(
        "/catalog/pricing-rules/new/", {"rounding": "none", "is_active": "on", **data}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not PricingRule.objects.exists()


def test_second_active_rule_for_the_same_target_is_refused(admin_client, priced):
    PricingRuleFactory(value=D("10"))

    response = admin_client.post(
        "/catalog/pricing-rules/new/",
        {
            "scope": "default",
            "kind": "markup_percent",
            "value": "20",
            "rounding": "none",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "already prices this target" in str(response.context["form"].non_field_errors())
    assert PricingRule.objects.count() == 1


def test_viewer_cannot_touch_rules_and_anonymous_is_sent_to_login(client_for, client, priced):
    rule = PricingRuleFactory()
    viewer = client_for("Viewer")
    for url in (
        "/catalog/pricing-rules/",
        "/catalog/pricing-rules/new/",
        f"/catalog/pricing-rules/{rule.pk}/edit/",
        f"/catalog/pricing-rules/{rule.pk}/delete/",
    ):
        assert viewer.get(url).status_code == 403
        assert viewer.post(url, {"scope": "default"}).status_code == 403
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert PricingRule.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_repricing_waits_while_a_sync_or_another_repricing_holds_the_pricing_lock():
    import threading

    import psycopg
    from django.db import connection, connections

    from catalog.services.pricing import PRICING_LOCK_KEY

    if connection.vendor != "postgresql":
        pytest.skip("the pricing lock is a PostgreSQL advisory lock")
    CombinationFactory(net_price=D("10.00"), price=D("15.00"))
    settings = connection.settings_dict
    holder = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    holder.execute("SELECT pg_advisory_lock(%s)", [PRICING_LOCK_KEY])
    done = threading.Event()

    def reprice() -> None:
        try:
            pricing_apply()
            done.set()
        finally:
            connections.close_all()

    worker = threading.Thread(target=reprice)
    worker.start()
    try:
        assert not done.wait(0.5)  # blocked behind the holder
    finally:
        holder.execute("SELECT pg_advisory_unlock(%s)", [PRICING_LOCK_KEY])
        holder.close()
    worker.join(timeout=30)
    assert done.is_set()
    assert Combination.objects.get().selling_price == D("15.00")


@pytest.mark.django_db
def test_the_widest_margins_a_catalog_price_allows_are_stored():
    # The dearest price the catalog takes, sold at 0.01 by a fixed-price rule and at
    # the markup cap: both margins are stored, not a numeric overflow stopping the run.
    from catalog.forms import MAX_MARKUP_PERCENT
    from licendi.parsing import MAX_CATALOG_PRICE

    dearest = MAX_CATALOG_PRICE - D("0.01")
    cheap = CombinationFactory(net_price=dearest, price=dearest)
    marked_up = CombinationFactory(net_price=dearest, price=dearest)
    PricingRuleFactory(
        scope=PricingRule.Scope.PRODUCT,
        product=cheap.product,
        kind=PricingRule.Kind.FIXED_PRICE,
        value=D("0.01"),
        rounding=R.NONE,
    )
    PricingRuleFactory(
        scope=PricingRule.Scope.PRODUCT,
        product=marked_up.product,
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=MAX_MARKUP_PERCENT,
        rounding=R.TO_99,
    )

    assert pricing_apply() == 2

    cheap.refresh_from_db()
    marked_up.refresh_from_db()
    assert cheap.margin_percent == margin_for(selling=D("0.01"), net=dearest)[1]
    assert cheap.margin_percent == D("-999999999800.00")
    assert marked_up.selling_price == D("1099999999.99")
    assert marked_up.margin_percent == D("90.91")
