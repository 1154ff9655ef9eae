"""The catalog list with its row checkboxes (what a buyer sees) against the same page
without them (a viewer's), on the same rows: what the bulk-selection column costs."""

from __future__ import annotations

from typing import Any

from bench.catalog_compare import _fill, page, query_count
from bench.harness import Context, Result, comparison, timed_pair


def _client(username: str, role: str) -> Any:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from tests.conftest import ensure_roles

    ensure_roles()
    user, _ = User.objects.get_or_create(username=username)
    user.groups.set([Group.objects.get(name=role)])
    client = Client()
    client.force_login(user)
    return client


@comparison("bulkselect")
def bulk_select(ctx: Context) -> list[Result]:
    """Catalog list, 100 rows: with the checkbox column (buyer) vs without (viewer)."""
    from catalog.models import Combination

    filled = _fill(ctx.args.products)
    ctx.note(
        f"bulkselect: {Combination.objects.count():,} combinations ({filled}); reference: "
        "the same page as a Viewer, who gets no checkbox column"
    )
    buyer = _client("bench-buyer", "Buyer")
    viewer = _client("bench-viewer", "Viewer")
    results = []
    for label, params in [
        ("catalog list, 100 rows, with checkboxes", {"per_page": 100}),
        (
            "catalog list, 100 rows sorted by margin %, with checkboxes",
            {"per_page": 100, "sort": "margin_percent"},
        ),
    ]:
        html = page(buyer, "/catalog/", params).content.decode()
        assert html.count('form="catalog-selection"') == 100, "the buyer's page has 100 boxes"
        assert 'form="catalog-selection"' not in page(viewer, "/catalog/", params).content.decode()
        results.append(
            timed_pair(
                label,
                lambda p=params: page(buyer, "/catalog/", p),
                lambda p=params: page(viewer, "/catalog/", p),
                rounds=ctx.rounds,
                reference_label="same page without the column",
                note=(
                    f"{query_count(buyer, '/catalog/', params)} vs "
                    f"{query_count(viewer, '/catalog/', params)} queries"
                ),
            )
        )
    return results
