"""A pricing rule shows its impact before it is saved: how many combinations change and
how many fall below the minimum margin. The preview writes nothing."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from backoffice.models import AuditEvent
from catalog.models import Combination, PricingRule
from catalog.services import pricing_apply

from .factories import CategoryFactory, CombinationFactory, PricingRuleFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(settings):
    settings.MIN_MARGIN_PERCENT = D("10")
    office = CategoryFactory(name="Office")
    games = CategoryFactory(name="Games")
    combos = [
        # RRP 12.00 on a 10.00 net: 16.67 % margin now.
        *(
            CombinationFactory(
                product=ProductFactory(category=office), net_price=D("10.00"), price=D("12.00")
            )
            for _ in range(3)
        ),
        # RRP 10.50 on 10.00: 4.76 %, already below.
        CombinationFactory(
            product=ProductFactory(category=office), net_price=D("10.00"), price=D("10.50")
        ),
        CombinationFactory(
            product=ProductFactory(category=games), net_price=D("10.00"), price=D("30.00")
        ),
    ]
    pricing_apply()
    return {"office": office, "games": games, "combos": combos}


def _snapshot():
    return sorted(
        Combination.objects.values_list("pk", "selling_price", "margin_percent", "priced_by_rule")
    )


def test_the_preview_counts_changes_and_margins_and_writes_nothing(admin_client, catalog):
    before = _snapshot()
    response = admin_client.post(
        reverse("catalog:rule_preview"),
        {
            "scope": "category",
            "category": catalog["office"].pk,
            # 5 % markup: 10.50 on 10.00 is a 4.76 % margin, below the 10 % minimum.
            "kind": "markup_percent",
            "value": "5",
            "rounding": "none",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    # The four office combinations are covered; three move from 12.00 to 10.50, the one
    # already at 10.50 keeps its price.
    assert 'data-changed="3"' in body and 'data-below-min="4"' in body
    assert 'data-newly-below-min="3"' in body
    assert "4 combinations it covers" in body
    assert _snapshot() == before
    assert not PricingRule.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PRICING_RULE_CHANGE).exists()


def test_previewing_an_edit_counts_what_the_rule_leaves_too(admin_client, catalog):
    rule = PricingRuleFactory(
        scope=PricingRule.Scope.CATEGORY,
        category=catalog["games"],
        kind=PricingRule.Kind.MARKUP_PERCENT,
        value=D("1.00"),  # 10.10 on 10.00: far below the minimum
    )
    pricing_apply()
    before = _snapshot()

    response = admin_client.post(
        reverse("catalog:rule_preview_edit", args=[rule.pk]),
        {
            "scope": "category",
            "category": catalog["office"].pk,
            "kind": "markup_percent",
            "value": "50",
            "rounding": "none",
            "is_active": "on",
        },
    )

    body = response.content.decode()
    # Office: 4 rows from 12.00/10.50 to 15.00; games: back from 10.10 to its RRP 30.00.
    assert 'data-changed="5"' in body and "5 combinations it covers" in body
    assert 'data-below-min="0"' in body and 'data-newly-below-min="0"' in body
    assert _snapshot() == before
    rule.refresh_from_db()
    assert rule.category == catalog["games"]


@pytest.mark.parametrize(
    "data",
    [
        {"scope": "category", "kind": "markup_percent", "value": "5"},  # no category
        {"scope": "default", "kind": "markup_percent", "value": "-3"},
        {"scope": "default", "kind": "bogus", "value": "5"},
        {
            "scope": "product",
            "product_sku": "<script>x</script>",
            "kind": "fixed_price",
            "value": "5",
        },
    ],
)
def test_an_invalid_form_gets_its_errors_not_a_500(admin_client, catalog, data):
    response = admin_client.post(reverse("catalog:rule_preview"), {"rounding": "none", **data})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="preview-invalid"' in body and "<script>x" not in body


def test_only_pricing_managers_may_preview(client_for, catalog):
    data = {"scope": "default", "kind": "markup_percent", "value": "5", "rounding": "none"}
    assert client_for("Viewer").post(reverse("catalog:rule_preview"), data).status_code == 403


def test_the_rule_form_offers_the_preview(admin_client, catalog):
    page = admin_client.get(reverse("catalog:rule_create")).content.decode()
    assert f'hx-post="{reverse("catalog:rule_preview")}"' in page
    assert 'hx-target="#rule-preview"' in page
