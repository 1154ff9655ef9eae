"""The catalog search through its trigram indexes finds exactly what `icontains` finds.

The indexes (migration 0006) only change how PostgreSQL finds the rows: with sequential
and plain index scans forbidden the search goes through their bitmap scans, and must
return the same products and combinations as the plain scan of every product, for names
and search terms of every shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from catalog.filters import CombinationFilter
from catalog.models import Product
from catalog.selectors import combination_list

from .factories import CombinationFactory, ProductFactory

pytestmark = pytest.mark.django_db

NAMES = [
    "Windows 11 Pro",
    "WINDOWS 11 Home",
    "Microsoft windows 110 Enterprise",
    "Windows 10 Pro",
    "Office 2021 Home & Business",
    "Ünïcode Straße Suite",
    "100% Off Percent Tool",
    "under_score Edition",
    "Kaspersky Total Security",
    "x",
    "",
]
TERMS = [
    "windows 11",
    "WINDOWS",
    "11",
    "w",
    "%",
    "_",
    "100%",
    "under_",
    "straße",
    "ünï",
    "home & business",
    "  office  ",
    "Kasp",
    "nothing like this",
]


@pytest.fixture
def products() -> None:
    for n, name in enumerate(NAMES):
        brand = "Microsoft" if "indows" in name or "Office" in name else f"Brand {n % 3}"
        product = ProductFactory(name=name, brand=brand)
        CombinationFactory(product=product)
    # Noise, so that the planner has a table worth an index.
    Product.objects.bulk_create(
        ProductFactory.build(sku=f"F{n:05d}", name=f"Filler product {n}", category=None)
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")


@contextmanager
def planner(**settings: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET LOCAL {name} = {value}")
        try:
            yield
        finally:
            for name in settings:
                cursor.execute(f"RESET {name}")


def _products(lookup: str, term: str) -> set[str]:
    return set(Product.objects.filter(**{lookup: term}).values_list("sku", flat=True))


def _found(term: str) -> set[str]:
    search = CombinationFilter({"q": term}, queryset=combination_list())
    assert search.is_valid(), search.errors
    return set(search.qs.values_list("order_sku", flat=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are PostgreSQL's")
def test_search_through_the_trigram_index_finds_what_a_scan_finds(products: None) -> None:
    for term in TERMS:
        for lookup in ("name__icontains", "brand__icontains"):
            with planner(enable_indexscan="off", enable_bitmapscan="off"):
                scanned = _products(lookup, term)
            with planner(enable_seqscan="off", enable_indexscan="off"):
                indexed = _products(lookup, term)
            assert indexed == scanned, (lookup, term)
        with planner(enable_indexscan="off", enable_bitmapscan="off"):
            scanned = _found(term)
        with planner(enable_seqscan="off", enable_indexscan="off"):
            indexed = _found(term)
        assert indexed == scanned, term


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are PostgreSQL's")
def test_name_and_brand_searches_use_the_trigram_indexes(products: None) -> None:
    for lookup, index in (
        ("name__icontains", "product_name_trgm"),
        ("brand__icontains", "product_brand_trgm"),
    ):
        with planner(enable_seqscan="off"):
            plan = Product.objects.filter(**{lookup: "windows 11"}).order_by().explain()
        assert index in plan, plan
