"""Read queries behind the catalog pages: joined up front, no N+1."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import CharField, F, Func, Prefetch, Q, QuerySet, Value
from django.shortcuts import get_object_or_404

from backoffice.list_cache import kept, query_digest

from .models import Category, Combination, PriceChange, PricingRule, Product, SyncRun

# The list-cache scope of products and combinations: every writer of them sends
# `catalog.signals.combinations_changed`, which replaces the scope's version on commit
# (CatalogConfig.ready), so the catalog list's counts and filter choices are kept until
# the next sync or repricing.
CATALOG_SCOPE = "catalog"

# Rows show the rule by scope and kind only (describe()), so its targets need no join.
_RULE_JOINS = ("priced_by_rule",)


def min_margin_percent() -> Decimal:
    return Decimal(settings.MIN_MARGIN_PERCENT)


def below_min_margin(path: str = "") -> Q:
    """Combinations we would sell below the minimum margin, or at an undefined one
    (selling price zero). Not-yet-priced rows (no selling price) are not flagged.

    `path` reaches the combination from another model (`"combination__"` from a price
    change), so every page asks the same question.
    """
    return Q(**{f"{path}margin_percent__lt": min_margin_percent()}) | Q(
        **{f"{path}margin_percent__isnull": True, f"{path}selling_price__isnull": False}
    )


# What the catalog list (its columns, its export, its row and product links) reads of
# each row; the rest (a product's description, its sync bookkeeping and timestamps) is
# left in the database: every time stamp costs a Python conversion per row.
_LIST_FIELDS = (
    "order_sku",
    "label",
    "price",
    "net_price",
    "in_stock",
    "is_active",
    "selling_price",
    "margin",
    "margin_percent",
    "product__sku",
    "product__name",
    "product__brand",
    "product__category__name",
    "priced_by_rule__scope",
    "priced_by_rule__kind",
    "priced_by_rule__value",
    "priced_by_rule__rounding",
)


def combination_list() -> QuerySet[Combination]:
    """Every combination with what the list shows of its product and pricing rule."""
    rows = Combination.objects.select_related("product", "product__category", *_RULE_JOINS)
    return rows.only(*_LIST_FIELDS)


def name_sort_key(path: str = "") -> Func:
    """`name || ''`: sorts as the product name does (same collation), but no index serves
    it, so PostgreSQL sorts the rows it found rather than walk the name index."""
    return Func(
        F(f"{path}name"),
        Value(""),
        template="(%(expressions)s)",
        arg_joiner=" || ",
        output_field=CharField(),
    )


# How many matching products a search keeps in name order (the list's window ends at row
# 1,000; products named alike past that are read too, up to this many).
PRODUCTS_BY_NAME_KEPT = 1200


def _products_by_name(products: QuerySet[Product]) -> list[tuple[int, str]]:
    ordered = products.order_by(name_sort_key(), "pk").values_list("pk", "name")
    return list(ordered[:PRODUCTS_BY_NAME_KEPT])


def first_products_by_name(products: QuerySet[Product], count: int) -> list[int] | None:
    """The ids of the first `count` of `products` in name order, and of every further one
    named like the last of them; None when that is all of them (or more than are kept).

    A page of combinations sorted by product name comes from these products when each of
    them has at least one combination listed. The products are found through the name's
    trigram index and sorted (one narrow query, never a walk along the name index), and
    kept until the catalog next changes, like the search's row count: paging through a
    search, or searching again, reads no product. The answer for each `count` is kept
    too, so a page reads its few ids rather than every kept product.
    """
    digest = query_digest(products)
    if digest is None:
        return None
    key = f"products-by-name:{digest}"

    def window() -> list[int]:
        rows = kept(CATALOG_SCOPE, key, lambda: _products_by_name(products))
        return _first_by_name(rows, count) or []  # [] is kept; None would be a miss

    return kept(CATALOG_SCOPE, f"{key}:first:{count}", window) or None


def _first_by_name(rows: list[tuple[int, str]], count: int) -> list[int] | None:
    if count >= len(rows):
        return None
    last_name = rows[count - 1][1]
    end = count
    while end < len(rows) and rows[end][1] == last_name:
        end += 1
    if end == len(rows):
        return None  # every product, or ties running past what is kept: read every match
    return [pk for pk, _name in rows[:end]]


def brand_names() -> list[str]:
    return list(
        Product.objects.exclude(brand="")
        .order_by("brand")
        .values_list("brand", flat=True)
        .distinct()
    )


def category_choices() -> list[tuple[int, str]]:
    return list(Category.objects.order_by("name").values_list("pk", "name"))


def _filter_choices() -> dict[str, list[Any]]:
    return {"brands": brand_names(), "categories": category_choices()}


def filter_choices_cached() -> dict[str, list[Any]]:
    """The catalog list's brand and category choices, kept until the catalog next
    changes: a DISTINCT over every product on every page of the list cost more than the
    rest of its queries."""
    return kept(CATALOG_SCOPE, "filter-choices", _filter_choices)


def product_for_detail(sku: str) -> Product:
    combinations = Combination.objects.select_related(*_RULE_JOINS).order_by(
        "-is_active", "order_sku"
    )
    return get_object_or_404(
        Product.objects.select_related("category").prefetch_related(
            "axes", Prefetch("combinations", queryset=combinations)
        ),
        sku=sku,
    )


def price_history(product: Product) -> QuerySet[PriceChange]:
    return (
        PriceChange.objects.filter(combination__product=product)
        .select_related("combination")
        .order_by("changed_at", "id")
    )


def price_changes() -> QuerySet[PriceChange]:
    return PriceChange.objects.select_related(
        "combination", "combination__product", "sync_run"
    ).order_by("-changed_at", "-id")


def sync_runs() -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("triggered_by").order_by("-started_at", "-id")


def running_sync() -> SyncRun | None:
    return SyncRun.objects.filter(status=SyncRun.Status.RUNNING).first()


def last_sync_run_id() -> int:
    """The newest run's id (0 before the first): runs created later have a higher one."""
    return SyncRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def first_sync_run_after(*, run_id: int) -> SyncRun | None:
    return SyncRun.objects.filter(pk__gt=run_id).order_by("pk").first()


def pricing_rules() -> QuerySet[PricingRule]:
    return PricingRule.objects.select_related("category", "product", "updated_by").order_by(
        "-is_active", "scope", "id"
    )
