"""backoffice.list_cache: values kept per scope until a committed change of that scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from backoffice import list_cache
from backoffice.models import AuditEvent

pytestmark = pytest.mark.django_db


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[str]:
        self.calls += 1
        return [f"computed {self.calls}"]


def test_a_value_is_computed_once_until_its_scope_changes_and_commits(
    django_capture_on_commit_callbacks,
):
    compute = Counter()
    assert list_cache.kept("things", "names", compute) == ["computed 1"]
    assert list_cache.kept("things", "names", compute) == ["computed 1"]
    list_cache.kept("other", "names", compute)  # another scope keeps its own
    assert compute.calls == 2

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        list_cache.scope_changed("things")
    # Not yet committed: a page reading now must not keep what it reads under a new version.
    assert list_cache.kept("things", "names", compute) == ["computed 1"]
    for callback in callbacks:
        callback()
    assert list_cache.kept("things", "names", compute) == ["computed 3"]
    assert list_cache.kept("other", "names", compute) == ["computed 2"]


def test_counts_are_kept_per_query(django_capture_on_commit_callbacks):
    AuditEvent.objects.bulk_create(
        AuditEvent(action=AuditEvent.Action.EXPORT, summary=f"row {n}") for n in range(3)
    )
    rows = AuditEvent.objects.all()
    assert list_cache.kept_count("audit", rows) == 3
    assert list_cache.kept_count("audit", rows.filter(summary="row 1")) == 1
    assert list_cache.kept_count("audit", rows.none()) == 0
    AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, summary="row 3")
    assert list_cache.kept_count("audit", rows) == 3  # no writer announced it
    with django_capture_on_commit_callbacks(execute=True):
        list_cache.scope_changed("audit")
    assert list_cache.kept_count("audit", rows) == 4


def test_without_a_reachable_cache_values_are_computed(monkeypatch):
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache down")

    for name in ("get", "set", "add"):
        monkeypatch.setattr(cache, name, down)
    compute = Counter()
    assert list_cache.kept("things", "names", compute) == ["computed 1"]
    assert list_cache.kept("things", "names", compute) == ["computed 2"]
    assert list_cache.kept_for(60, "names", compute) == ["computed 3"]
    list_cache.scope_changed("things")  # outside a transaction: runs now, logs, no error
