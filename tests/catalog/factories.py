"""factory_boy factories for catalog rows built without a sync."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Category, Combination, PricingRule, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: str(50000 + n))
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    brand = "Acme"
    price = Decimal("20.00")
    net_price = Decimal("14.00")
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class CombinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Combination

    product = factory.SubFactory(ProductFactory)
    order_sku = factory.LazyAttribute(lambda c: c.product.sku)
    price = Decimal("20.00")
    net_price = Decimal("14.00")


class PricingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricingRule

    scope = PricingRule.Scope.DEFAULT
    kind = PricingRule.Kind.MARKUP_PERCENT
    value = Decimal("25.00")
    rounding = PricingRule.Rounding.NONE
