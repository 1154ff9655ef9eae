"""What a list page may keep between requests: row counts and filter choices, per scope.

A *scope* names a set of tables whose rows change only through known writers ("catalog":
products and combinations, written by the sync and the repricing; "customers"). The
scope has a version token in the cache, and every value kept for it is keyed by that
token. A writer calls `scope_changed()` inside its transaction; once the transaction
commits the token is replaced, so every count and choice list of the scope is recomputed
on its next use (the old ones are unreachable and expire by themselves). A page never
sees a value computed before the last committed change.

Each use costs one cache read (the token; a list page reads it once, see
`one_version_per_scope`, and a process keeps the values it has read), no query; a
missed or evicted token is a new token, so the worst case is one recomputation.
`kept_for` keeps a value for a set time instead, for what no writer announces. When the
cache cannot be reached the values are computed from the database as if nothing were
kept.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a kept value lives when nothing changes its scope: a safety net for a write
# that bypassed the scope's writers (a manual SQL fix), not the means of invalidation.
KEEP_SECONDS = 6 * 3600


def _prefix() -> str:
    """Keys name the database, so that processes sharing a cache but not a database (a
    bench run beside a test run) never read each other's values."""
    return f"list-cache:{connection.settings_dict['NAME']}"


def _version_key(scope: str) -> str:
    return f"{_prefix()}:{scope}:version"


# The versions read so far by the request being answered (None outside one_version_per_scope).
_held_versions: ContextVar[dict[str, str] | None] = ContextVar("list_cache_versions", default=None)


@contextmanager
def one_version_per_scope() -> Iterator[None]:
    """Within this block each scope's version is read once: a list page keeps or reads
    several values of one scope (its count, its filter choices, a search's window), and
    each of them paid a cache read for the version before its own. The values are then
    also all of one version, whatever commits meanwhile. Not for a block that outlives
    a request: a change committed after the first read would go unseen until its end."""
    token = _held_versions.set({})
    try:
        yield
    finally:
        _held_versions.reset(token)


def scope_version(scope: str) -> str:
    """The current version token of `scope` (made on first use)."""
    held = _held_versions.get()
    if held is not None and scope in held:
        return held[scope]
    key = _version_key(scope)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key) or uuid.uuid4().hex
    if held is not None:
        held[scope] = str(version)
    return str(version)


def scope_changed(scope: str) -> None:
    """The rows of `scope` changed (or are about to, in the current transaction): every
    value kept for it is dropped once the transaction commits."""

    def bump() -> None:
        held = _held_versions.get()
        if held is not None:
            held.pop(scope, None)  # this block changed the scope: it reads the new version
        try:
            cache.set(_version_key(scope), uuid.uuid4().hex, timeout=None)
        except Exception:  # the cache is down: nothing kept can be read either
            logger.warning("list cache %s: version not replaced", scope, exc_info=True)

    transaction.on_commit(bump)


def _cached(key: Callable[[], str], compute: Callable[[], T], timeout: int) -> T:
    try:
        name = key()
        value = cache.get(name)
    except Exception:  # the cache is unreachable: compute as if nothing were kept
        logger.warning("list cache: computed without the cache", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(name, value, timeout=timeout)
        except Exception:
            logger.warning("list cache: %s not kept", name, exc_info=True)
    return value  # type: ignore[no-any-return]


# A version's values never change, so a process also keeps those it has read, most
# recently used last: a list page then reads the version from the cache and its values
# from memory. They are shared by the process's threads, so a kept value is never
# changed in place by its callers.
LOCAL_VALUES_MAX = 256
_local_values: OrderedDict[str, Any] = OrderedDict()
_local_lock = threading.Lock()


def _local_get(key: str) -> Any:
    with _local_lock:
        value = _local_values.get(key)
        if value is not None:
            _local_values.move_to_end(key)
        return value


def _local_put(key: str, value: Any) -> None:
    with _local_lock:
        _local_values[key] = value
        _local_values.move_to_end(key)
        while len(_local_values) > LOCAL_VALUES_MAX:
            _local_values.popitem(last=False)


def kept(scope: str, name: str, compute: Callable[[], T]) -> T:
    """`compute()` as of the scope's last change, computed once per change (and read
    from the cache once per process)."""
    try:
        key = f"{_prefix()}:{scope}:{scope_version(scope)}:{name}"
    except Exception:  # the cache is unreachable: compute as if nothing were kept
        logger.warning("list cache: computed without the cache", exc_info=True)
        return compute()
    value = _local_get(key)
    if value is None:
        value = _cached(lambda: key, compute, KEEP_SECONDS)
        _local_put(key, value)
    return value  # type: ignore[no-any-return]


def kept_for(seconds: int, name: str, compute: Callable[[], T]) -> T:
    """`compute()` at most `seconds` old, for values no writer announces (suggestions)."""
    return _cached(lambda: f"{_prefix()}:{name}", compute, seconds)


def query_digest(rows: QuerySet[Any]) -> str | None:
    """A key for the rows `rows` selects: the SQL of its query with its parameters, None
    when it selects nothing without asking the database.

    The columns it reads (its own and those of `select_related`) and the order of rows
    not sliced choose no rows, so they are left out of the SQL compiled for the key: the
    list's own query compiles them, the key need not (a DISTINCT query keeps them, its
    columns decide which rows are the same)."""
    if rows.query.is_empty():
        return None
    query = rows.query.chain()
    if not query.distinct:
        query.select_related = False
        query.default_cols = False
        query.clear_ordering()
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:
        return None
    return hashlib.sha256(f"{sql}\x00{params!r}".encode()).hexdigest()


def kept_count(scope: str, rows: QuerySet[Any]) -> int:
    """The number of `rows`, counted once per change of the scope for each distinct query
    (the SQL with its parameters is the key: each filter combination has its own count)."""
    digest = query_digest(rows)
    if digest is None:
        return 0
    return kept(scope, f"count:{digest}", rows.count)
