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
