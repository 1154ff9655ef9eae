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


def _version_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The version keys read from the cache from now on."""
    reads: list[str] = []
    get = cache.get

    def counting_get(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.endswith(":version"):
            reads.append(key)
        return get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counting_get)
    return reads


def test_within_one_block_each_scope_version_is_read_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    compute = Counter()
    list_cache.kept("things", "names", compute)
    list_cache.scope_version("other")  # made before: a first use reads it twice
    reads = _version_reads(monkeypatch)
    with list_cache.one_version_per_scope():
        assert list_cache.kept("things", "names", compute) == ["computed 1"]
        assert list_cache.kept("things", "more", compute) == ["computed 2"]
        list_cache.kept("other", "names", compute)
        assert sorted(reads) == [
            list_cache._version_key("other"),
            list_cache._version_key("things"),
        ]
        # Another process's change, committed meanwhile, is seen by the next block.
        cache.set(list_cache._version_key("things"), "changed-elsewhere", timeout=None)
        assert list_cache.kept("things", "names", compute) == ["computed 1"]
        # A change this block commits is seen at once.
        with django_capture_on_commit_callbacks(execute=True):
            list_cache.scope_changed("other")
        assert list_cache.kept("other", "names", compute) == ["computed 4"]
    assert list_cache.kept("things", "names", compute) == ["computed 5"]
    # Outside a block every use reads the version.
    del reads[:]
    list_cache.kept("things", "names", compute)
    list_cache.kept("things", "names", compute)
    assert len(reads) == 2


def test_a_list_page_reads_each_scope_version_once(monkeypatch, client):
    from catalog.selectors import CATALOG_SCOPE
    from tests.conftest import make_user

    client.force_login(make_user("list-cache-viewer", "Viewer"))
    client.get("/catalog/", {"q": "windows"})  # fills what the page keeps
    reads = _version_reads(monkeypatch)
    assert client.get("/catalog/", {"q": "windows"}).status_code == 200
    assert reads == [list_cache._version_key(CATALOG_SCOPE)]


def test_a_process_reads_each_kept_value_from_the_cache_once_per_version(
    monkeypatch, django_capture_on_commit_callbacks
):
    compute = Counter()
    assert list_cache.kept("things", "names", compute) == ["computed 1"]
    value_reads: list[str] = []
    get = cache.get

    def counting_get(key: str, *args: Any, **kwargs: Any) -> Any:
        if not key.endswith(":version"):
            value_reads.append(key)
        return get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counting_get)
    for _ in range(3):
        assert list_cache.kept("things", "names", compute) == ["computed 1"]
    assert value_reads == []
    # Another process computed and kept a value under the current version: read once.
    version = list_cache.scope_version("things")
    cache.set(f"{list_cache._prefix()}:things:{version}:other", ["from elsewhere"])
    for _ in range(2):
        assert list_cache.kept("things", "other", compute) == ["from elsewhere"]
    assert len(value_reads) == 1
    with django_capture_on_commit_callbacks(execute=True):
        list_cache.scope_changed("things")
    assert list_cache.kept("things", "names", compute) == ["computed 2"]
    assert compute.calls == 2


def test_a_process_keeps_a_bounded_number_of_values(monkeypatch):
    monkeypatch.setattr(list_cache, "LOCAL_VALUES_MAX", 3)
    compute = Counter()
    for n in range(5):
        list_cache.kept("things", f"name-{n}", compute)
    assert len(list_cache._local_values) == 3
    assert [key.rsplit(":", 1)[1] for key in list_cache._local_values] == [
        "name-2",
        "name-3",
        "name-4",
    ]
