"""Hostile query strings against every list and export, as every role.

The pages walked are every page of the URLconf that answers GET (from
tests/test_url_permissions.EXPECTED, itself checked against the URLconf), and the list
pages and exports are found from the views (`backoffice.lists.list_pages`), so a new
list or export cannot be left out. Each gets `page`, `per_page`, `sort` and every
filter field of its filter set (range fields by their two parameter names) set to one
hostile value at a time. No answer may be a server error, and no page may render more
than 100 rows of any table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tables2 import Table

from backoffice.lists import MAX_PER_PAGE, ListPageView, list_pages
from backoffice.models import AuditEvent
from backoffice.permissions import ROLES
from tests.conftest import make_user
from tests.test_url_permissions import EXPECTED, SAMPLES

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "-1",
    "0",
    "100000",
    "99999999999999999999999999",
    "1e999999",
    "NaN",
    "\x00",
    "a\x00b",
    "abc",
    " ",
    "%",
    "x" * 3000,
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "-inactive",
    "=HYPERLINK(1)",
    "\u202e",
]
# Tables shown under a prefix on pages with several tables (customer detail,
# reconciliation) read their paging from prefixed names.
TABLE_PREFIXES = ("", "po-", "debits-", "pos-")
PAGING = ("page", "per_page", "sort")
# The Admin opens every list (a page showing a table) and export with every hostile
# value; other pages, and the other roles, which run the same code behind their
# permission checks, get a few values each.
OTHER_ROLES_VALUES = ["-1", "\x00", "100000"]


def _filter_params(view: type[ListPageView]) -> list[str]:
    if view.filterset_class is None:
        return []
    names = []
    for name, field in view.filterset_class().form.fields.items():
        suffixes = getattr(field.widget, "suffixes", None) or [""]
        names += [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
    return names


def _params(url_name: str) -> list[str]:
    view = list_pages().get(url_name)
    names = [prefix + name for prefix in TABLE_PREFIXES for name in PAGING]
    return names + (_filter_params(view) if view is not None else [])


def _pages() -> list[str]:
    return sorted(name for name, rule in EXPECTED.items() if rule.ok == 200 and rule.perms)


def _rows_rendered(response: Any) -> list[int]:
    if response.context is None:
        return []
    tables = {
        id(value): value
        for context in response.context
        for value in (context.flatten() if hasattr(context, "flatten") else context).values()
        if isinstance(value, Table)
    }
    return [len(table.page.object_list) for table in tables.values() if hasattr(table, "page")]


@pytest.fixture
def many_rows(db) -> None:
    """More rows than the largest page in the lists that are cheap to fill."""
    from tests.orders.factories import CustomerFactory
    from tests.wallet.factories import LedgerEntryFactory
    from tests.webhooks.factories import WebhookEventFactory

    CustomerFactory.create_batch(MAX_PER_PAGE + 20)
    LedgerEntryFactory.create_batch(MAX_PER_PAGE + 20)
    WebhookEventFactory.create_batch(MAX_PER_PAGE + 20)
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(action=AuditEvent.Action.EXPORT, summary=f"row {n}", created_at=now)
        for n in range(MAX_PER_PAGE + 20)
    )


def _actors() -> dict[str, Any]:
    actors: dict[str, Any] = {"anonymous": AnonymousUser()}
    for role in ROLES:
        actors[role] = make_user(f"hostile-{role.lower().replace(' ', '-')}", role)
    return actors


def test_every_list_page_is_walked():
    assert set(list_pages()) <= set(_pages())
    assert len(list_pages()) >= 12  # every list of the back-office is a ListPageView


def test_no_hostile_query_string_breaks_a_list_or_an_export(sandbox, many_rows):
    samples: dict[Any, dict[str, Any]] = {}
    lists = list_pages()
    actors = _actors()
    urls: dict[str, str] = {}
    for url_name in _pages():
        builder = SAMPLES.get(url_name)
        if builder is not None and builder not in samples:
            samples[builder] = builder()
        urls[url_name] = reverse(url_name, kwargs=samples[builder] if builder else {})
    # A page that shows a table is a list, whether or not it is a ListPageView.
    admin = Client()
    admin.force_login(actors["Admin"])
    with_tables = {name for name, url in urls.items() if _rows_rendered(admin.get(url))}
    assert set(lists) <= with_tables

    failures: list[str] = []
    for role, user in actors.items():
        client = Client(raise_request_exception=False)
        if user.is_authenticated:
            client.force_login(user)
        for url_name, url in urls.items():
            names = _params(url_name)
            full = role == "Admin" and url_name in with_tables
            exporting = url_name in lists and lists[url_name].export_filename
            for value in HOSTILE_VALUES if full else OTHER_ROLES_VALUES:
                query = urlencode(dict.fromkeys(names, value))
                response = client.get(f"{url}?{query}")
                if response.status_code >= 500:
                    failures.append(f"{role} GET {url_name} {value!r}: {response.status_code}")
                too_many = [n for n in _rows_rendered(response) if n > MAX_PER_PAGE]
                if too_many:
                    failures.append(f"{role} GET {url_name} {value!r}: {too_many} rows")
                if exporting:
                    for fmt in ("csv", "xlsx", value) if full else ("csv",):
                        exported = client.post(f"{url}?{query}", {"_export": fmt})
                        b"".join(exported)  # a streamed export fails while it is read
                        if exported.status_code >= 500:
                            failures.append(
                                f"{role} POST {url_name} {fmt!r} {value!r}: {exported.status_code}"
                            )
    assert not failures, "\n".join(failures[:40])


@pytest.mark.parametrize("per_page", ["100000", "-1", "0", "abc", "7"])
def test_a_page_size_outside_the_choices_is_the_default(many_rows, client_for, per_page):
    response = client_for("Viewer").get(reverse("orders:customer_list"), {"per_page": per_page})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 50


def test_the_largest_page_size_is_one_hundred_rows(many_rows, client_for):
    response = client_for("Viewer").get(reverse("orders:customer_list"), {"per_page": "100"})
    assert len(response.context["table"].page.object_list) == MAX_PER_PAGE


@pytest.mark.parametrize("page", ["abc", "-3", "0", "\x00", "99999999999"])
def test_a_page_number_out_of_range_shows_a_real_page(many_rows, client_for, page):
    response = client_for("Admin").get(reverse("webhooks:event_list"), {"page": page})
    assert response.status_code == 200
    assert response.context["table"].page.number in (
        1,
        response.context["table"].paginator.num_pages,
    )


def test_an_invalid_filter_is_a_form_error_and_selects_nothing(many_rows, client_for):
    response = client_for("Viewer").get(reverse("orders:customer_list"), {"q": "a\x00b"})
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert len(response.context["table"].page.object_list) == 0


def test_an_unknown_sort_is_ignored(many_rows, client_for):
    client = client_for("Viewer")
    plain = client.get(reverse("orders:customer_list"))
    hostile = client.get(reverse("orders:customer_list"), {"sort": "password,-__class__,\x00"})
    assert hostile.status_code == 200
    first = [row.record.pk for row in plain.context["table"].page.object_list]
    assert [row.record.pk for row in hostile.context["table"].page.object_list] == first
