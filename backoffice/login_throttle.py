"""Refusing password guesses without letting anyone lock the staff out.

Two counters per attempt, both in the database (one row each, `LoginThrottle`):
- the username from that address: LOGIN_FAILURE_LIMIT failures lock that pair out;
- the address alone: LOGIN_ADDRESS_FAILURE_LIMIT (much higher) failures lock it out.
So a guesser spraying made-up usernames from the address every staff member shares
behind a proxy locks out only their own pairs until they reach the address ceiling,
and a real user's own mistakes never lock out a colleague. The client address is the
real one (`backoffice.audit.client_ip`, TRUSTED_PROXIES).

Atomic by construction: an attempt first *reserves* a slot with one INSERT … ON
CONFLICT DO UPDATE … WHERE failures < limit RETURNING statement per counter, and the
password is evaluated only once both reservations succeeded. Concurrent guesses cannot
all pass a check before any of them counts: at most the limit of passwords is ever
evaluated. A success gives its slot back (and clears the pair); a failure keeps it and
starts the lockout clock.

Why not django-axes: its handlers check the lockout and record the failure in two steps
around `authenticate`, so concurrent guesses are all evaluated before the first is
counted, and it has one failure limit for every lockout parameter, not a pair limit
plus a higher address ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .models import LoginThrottle

Scope = LoginThrottle.Scope


def failure_limit() -> int:
    return int(settings.LOGIN_FAILURE_LIMIT)


def address_failure_limit() -> int:
    return int(settings.LOGIN_ADDRESS_FAILURE_LIMIT)


def lockout_seconds() -> int:
    return int(settings.LOGIN_LOCKOUT_SECONDS)


def limit_for(scope: str) -> int:
    return address_failure_limit() if scope == Scope.ADDRESS else failure_limit()


def normalise_username(username: str) -> str:
    return username.strip().lower()[:150]


@dataclass(frozen=True)
class Attempt:
    """The slots one login attempt holds; give them back with `login_attempt_succeeded`."""

    username: str
    ip: str


def _subjects(attempt: Attempt) -> list[tuple[str, str, str]]:
    return [(Scope.PAIR, attempt.username, attempt.ip), (Scope.ADDRESS, "", attempt.ip)]


def _reserve(*, scope: str, username: str, ip: str, now: datetime) -> bool:
    """Count one more attempt unless the subject is locked; True when counted."""
    quote = connection.ops.quote_name
    table = quote(LoginThrottle._meta.db_table)
    expired = now - timedelta(seconds=lockout_seconds())
    # A counter whose last failure is older than the lockout starts again at one.
    sql = (
        f"INSERT INTO {table} (scope, username, ip_address, failures, first_failure_at, "  # noqa: S608 - names quoted, values bound
        "last_failure_at) VALUES (%s, %s, %s, 1, %s, %s) "
        "ON CONFLICT (scope, username, ip_address) DO UPDATE SET "
        f"failures = CASE WHEN {table}.last_failure_at < %s THEN 1 "
        f"ELSE {table}.failures + 1 END, "
        f"first_failure_at = CASE WHEN {table}.last_failure_at < %s "
        f"THEN excluded.first_failure_at ELSE {table}.first_failure_at END, "
        f"last_failure_at = CASE WHEN {table}.last_failure_at < %s "
        f"THEN excluded.last_failure_at ELSE {table}.last_failure_at END "
        f"WHERE {table}.last_failure_at < %s OR {table}.failures < %s "
        "RETURNING failures"
    )
    params: list[str | int | datetime] = [
        scope,
        username,
        ip,
        now,
        now,
        expired,
        expired,
        expired,
        expired,
        limit_for(scope),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _release(*, scope: str, username: str, ip: str) -> None:
    LoginThrottle.objects.filter(scope=scope, username=username, ip_address=ip).filter(
        failures__gt=0
    ).update(failures=F("failures") - 1)


def login_attempt_begin(*, username: str, ip: str | None) -> Attempt | None:
    """Reserve the right to evaluate one password; None when the attempt is locked out."""
    attempt = Attempt(username=normalise_username(username), ip=ip or "")
    now = timezone.now()
    reserved: list[tuple[str, str, str]] = []
    for scope, name, address in _subjects(attempt):
        if not _reserve(scope=scope, username=name, ip=address, now=now):
            for held in reserved:
                _release(scope=held[0], username=held[1], ip=held[2])
            return None
        reserved.append((scope, name, address))
    return attempt


def login_attempt_failed(attempt: Attempt) -> None:
    """The password was wrong: the slots stay counted and the lockout clock restarts."""
    subjects = Q()
    for scope, name, address in _subjects(attempt):
        subjects |= Q(scope=scope, username=name, ip_address=address)
    LoginThrottle.objects.filter(subjects).update(last_failure_at=timezone.now())


def login_attempt_succeeded(attempt: Attempt) -> None:
    """The pair starts afresh; the address gets its slot back but keeps earlier failures,
    so one valid account cannot let a guesser behind the same address start again."""
    LoginThrottle.objects.filter(
        scope=Scope.PAIR, username=attempt.username, ip_address=attempt.ip
    ).delete()
    _release(scope=Scope.ADDRESS, username="", ip=attempt.ip)
    login_throttles_purge()


def login_attempt_abandoned(attempt: Attempt) -> None:
    """No verdict on the password (an error on the way): both slots are given back."""
    for scope, name, address in _subjects(attempt):
        _release(scope=scope, username=name, ip=address)


def login_throttles_purge() -> int:
    """Delete counters whose lockout window has passed; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=lockout_seconds())
    deleted, _ = LoginThrottle.objects.filter(
        Q(last_failure_at__lt=cutoff) | Q(failures=0)
    ).delete()
    return deleted


def lockouts() -> QuerySet[LoginThrottle]:
    """The counters refusing logins now (pairs at their limit, addresses at theirs)."""
    cutoff = timezone.now() - timedelta(seconds=lockout_seconds())
    return LoginThrottle.objects.filter(last_failure_at__gte=cutoff).filter(
        Q(scope=Scope.PAIR, failures__gte=failure_limit())
        | Q(scope=Scope.ADDRESS, failures__gte=address_failure_limit())
    )


def locked_until(row: LoginThrottle) -> datetime:
    return row.last_failure_at + timedelta(seconds=lockout_seconds())
