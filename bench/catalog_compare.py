"""The catalog list against the Django admin changelist of the same combinations.

The mirror is filled through the in-process sandbox and a real sync (`bench_catalog`), at
--products products (20,000 give 60,790 combinations), and reused while it holds that
many. The reference is the project's own `CombinationAdmin`, set in this process only to
show 50 rows as the list does and to search the product name as the list's search does.
"""

from __future__ import annotations

import time
from typing import Any

from bench.harness import Context, Result, comparison, option, timed_pair

option("--products", type=int, default=20_000, help="catalog size in products (default 20,000)")


def _fill(products: int, seed: int = 42) -> str:
    from django.conf import settings
    from django.db import connection

    from backoffice.upstream import use_transport
    from bench.bench_catalog import API_KEY, empty_catalog
    from catalog.models import Product, SyncRun
    from catalog.services import catalog_sync
    from sandbox import Sandbox

    if Product.objects.count() == products:
        return "reused"
    empty_catalog()
    settings.LICENDI_API_KEY = API_KEY
    settings.LICENDI_BASE_URL = "http://sandbox.bench"
    started = time.perf_counter()
    sb = Sandbox(products=products, seed=seed, api_key=API_KEY)
    with use_transport(sb.transport()):
        run = catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise SystemExit(f"catalog sync {run.status}: {run.error}")
    with connection.cursor() as cursor:
        # As autovacuum would have by the time staff browse: statistics, visibility map.
        cursor.execute("VACUUM ANALYZE catalog_product, catalog_combination")
    return f"synced in {time.perf_counter() - started:.0f} s"


def bench_client() -> Any:
    """A test Client logged in as a superuser (the admin and every back-office page)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-superuser")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(user)
    return client


def page(client: Any, url: str, params: dict[str, Any]) -> Any:
    response = client.get(url, params)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} {params}: {response.status_code}")
    return response


def query_count(client: Any, url: str, params: dict[str, Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page(client, url, params)
    return len(queries)


def compare_pages(
    ctx: Context,
    client: Any,
    cases: list[tuple[str, str, dict[str, Any], str, dict[str, Any]]],
    reference_label: str,
) -> list[Result]:
    results = []
    for label, url, params, admin_url, admin_params in cases:
        ours = query_count(client, url, params)
        theirs = query_count(client, admin_url, admin_params)
        results.append(
            timed_pair(
                label,
                lambda u=url, p=params: page(client, u, p),
                lambda u=admin_url, p=admin_params: page(client, u, p),
                rounds=ctx.rounds,
                reference_label=reference_label,
                note=f"{ours} vs {theirs} queries",
            )
        )
    return results


def admin_changelist(model: Any, *, search_fields: tuple[str, ...] | None = None) -> str:
    """The URL of `model`'s admin changelist, set in this process only to list 50 rows a
    page as the project's lists do (and to search `search_fields` when given)."""
    from django.contrib import admin
    from django.urls import reverse

    reference = admin.site._registry[model]
    reference.list_per_page = 50
    if search_fields is not None:
        reference.search_fields = search_fields
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


def admin_reference() -> str:
    """The CombinationAdmin listing as the catalog does: 50 rows a page and a search on the
    product name; bench/load_urls.py does the same in the load comparison's gunicorn."""
    from catalog.models import Combination

    return admin_changelist(Combination, search_fields=("product__name",))


@comparison("catalog")
def catalog(ctx: Context) -> list[Result]:
    """Catalog list (first page, sort by margin %, search) vs the admin changelist."""
    from catalog.models import Combination, Product

    filled = _fill(ctx.args.products)
    admin_url = admin_reference()
    ctx.note(
        f"catalog: {Product.objects.count():,} products, {Combination.objects.count():,} "
        f"combinations ({filled}); reference: the admin changelist of Combination, 50 rows, "
        "searching product__name, sorted on margin (`?o=6`)"
    )
    client = bench_client()
    return compare_pages(
        ctx,
        client,
        [
            ("catalog list, first page of 50", "/catalog/", {}, admin_url, {}),
            (
                "catalog list, sort by margin %",
                "/catalog/",
                {"sort": "margin_percent"},
                admin_url,
                {"o": "6"},
            ),
            (
                "catalog search 'windows 11'",
                "/catalog/",
                {"q": "windows 11"},
                admin_url,
                {"q": "windows 11"},
            ),
        ],
        "admin changelist",
    )
