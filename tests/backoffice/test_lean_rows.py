"""The back-office tables render their rows in one pass (BaseTable.body_html); every page
showing a table must show exactly what django-tables2's own row loop showed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_tables2 import Table

from backoffice.tables import BaseTable
from tests.conftest import make_user
from tests.test_list_params import many_rows  # noqa: F401 - the fixture
from tests.test_url_permissions import EXPECTED, SAMPLES

pytestmark = pytest.mark.django_db

_TBODY = re.compile(r"<tbody[^>]*>.*?</tbody>", re.S)
_BETWEEN_TAGS = re.compile(r">\s+<")


def _shows_a_table(response: Any) -> bool:
    return response.context is not None and any(
        isinstance(value, Table)
        for context in response.context
        for value in (context.flatten() if hasattr(context, "flatten") else context).values()
    )


def _bodies(html: str) -> list[str]:
    return [_BETWEEN_TAGS.sub("><", body) for body in _TBODY.findall(html)]


@pytest.mark.usefixtures("many_rows")
def test_every_table_renders_the_same_rows_as_django_tables2(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.models import SyncRun
    from catalog.services import catalog_sync

    # The catalog lists: products with options, prices and the rules that priced them.
    catalog_sync(trigger=SyncRun.Trigger.COMMAND)
    client = Client()
    client.force_login(make_user("lean-rows-admin", "Admin"))
    samples: dict[Any, dict[str, Any]] = {}
    compared = 0
    pages = sorted(name for name, rule in EXPECTED.items() if rule.ok == 200 and rule.perms)
    for url_name in pages:
        builder = SAMPLES.get(url_name)
        if builder is not None and builder not in samples:
            samples[builder] = builder()
        url = reverse(url_name, kwargs=samples[builder] if builder else {})
        lean = client.get(url)
        if lean.status_code != 200 or not _shows_a_table(lean):
            continue
        monkeypatch.setattr(BaseTable, "lean_rows", False)
        plain = client.get(url)
        monkeypatch.setattr(BaseTable, "lean_rows", True)
        ours, theirs = _bodies(lean.content.decode()), _bodies(plain.content.decode())
        assert ours == theirs, url_name
        compared += 1
    assert compared >= 12


_TBODY_AROUND = re.compile(r"\s*<tbody[^>]*>.*?</tbody>\s*", re.S)
_CSRF = re.compile(r'(data-csrf-token|name="csrfmiddlewaretoken" value)="[^"]+"')


def _outside_tbody(html: str) -> str:
    return _CSRF.sub("CSRF", _TBODY_AROUND.sub("<tbody/>", html))


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"per_page": "25", "page": "2"},
        {"per_page": "25", "page": "7", "sort": "-amount"},
        {"per_page": "25", "page": "999", "q": "o&<'\""},
        {"per_page": "25", "page": "13", "sort": "position", "extra": ["a", "b"]},
    ],
)
def test_header_and_pagination_are_django_tables2s_markup(
    monkeypatch: pytest.MonkeyPatch, query: dict[str, Any]
) -> None:
    """BaseTable.thead_html and pagination_html write the template's markup byte for byte:
    the sort links and the page links keep the rest of the query string."""
    from tests.wallet.factories import LedgerEntryFactory

    LedgerEntryFactory.create_batch(330)  # 14 pages of 25: the page range skips some
    client = Client()
    client.force_login(make_user("lean-header-admin", "Admin"))
    url = reverse("wallet:ledger")
    lean = client.get(url, query)
    monkeypatch.setattr(BaseTable, "lean_rows", False)
    plain = client.get(url, query)
    assert lean.status_code == plain.status_code == 200
    ours, theirs = lean.content.decode(), plain.content.decode()
    assert "<thead" in ours
    if query.get("page") and "q" not in query:  # the search matches no row
        assert 'aria-label="Table navigation"' in ours
    assert _outside_tbody(ours) == _outside_tbody(theirs)
