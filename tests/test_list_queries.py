"""Every list page issues the same number of queries for 25 rows as for 100: rows are
joined or prefetched up front, never fetched one by one while the table renders."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.lists import list_pages
from tests.conftest import make_user
from tests.test_list_params import many_rows  # noqa: F401 - the fixture
from tests.test_url_permissions import SAMPLES

pytestmark = pytest.mark.django_db


def _count(client: Client, url: str, per_page: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"per_page": per_page})
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.usefixtures("many_rows")
def test_every_list_issues_the_same_queries_for_25_and_100_rows(sandbox: Any) -> None:
    from catalog.models import SyncRun
    from catalog.services import catalog_sync

    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    client = Client()
    client.force_login(make_user("list-queries-admin", "Admin"))
    differing = []
    for url_name in sorted(list_pages()):
        builder = SAMPLES.get(url_name)
        url = reverse(url_name, kwargs=builder() if builder else {})
        client.get(url)  # warms the caches (filter choices, notification badge)
        small, large = _count(client, url, 25), _count(client, url, 100)
        if small != large:
            differing.append(f"{url_name}: {small} queries for 25 rows, {large} for 100")
    assert not differing, "\n".join(differing)
