"""Counting failed logins in the cache, per username and per client address.

After LOGIN_FAILURE_LIMIT failures for one username, or from one address, further
attempts are refused for LOGIN_LOCKOUT_SECONDS whatever the password. The counters live
in the shared cache (Redis in production and tests) so every web process sees them.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

_PREFIX = "login-failures"


def _key(kind: str, value: str) -> str:
    # Hashed: a username is free text and must not shape the cache key.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"{_PREFIX}:{kind}:{digest}"


def _keys(*, username: str, ip: str | None) -> list[str]:
    keys = []
    if username:
        keys.append(_key("user", username))
    if ip:
        keys.append(_key("ip", ip))
    return keys


def failure_limit() -> int:
    return settings.LOGIN_FAILURE_LIMIT


def lockout_seconds() -> int:
    return settings.LOGIN_LOCKOUT_SECONDS


def login_is_locked(*, username: str, ip: str | None) -> bool:
    counts = cache.get_many(_keys(username=username, ip=ip))
    return any(count >= failure_limit() for count in counts.values())


def login_failure_record(*, username: str, ip: str | None) -> None:
    """One more failure; the counter expires LOGIN_LOCKOUT_SECONDS after the last one."""
    for key in _keys(username=username, ip=ip):
        cache.add(key, 0, timeout=lockout_seconds())
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=lockout_seconds())
        cache.touch(key, timeout=lockout_seconds())


def login_failures_reset(*, username: str) -> None:
    """A successful login clears its username's counter.

    The address counter is left to expire: one valid account must not let a guesser
    behind the same address start counting again.
    """
    cache.delete(_key("user", username))
