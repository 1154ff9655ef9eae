"""Fixtures shared by every test: the in-process sandbox and users in each role."""

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from backoffice.permissions import ROLES

SANDBOX_API_KEY = "sandbox-test-key"  # matches settings.test.LICENDI_API_KEY


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache (login throttle counters, secret caches).

    Each pytest-xdist worker has a Redis database of its own (settings.test), so this
    never clears another worker's keys.
    """
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def sandbox(settings) -> Iterator["object"]:
    """A small deterministic Licendi sandbox wired in as the back-office's upstream."""
    from backoffice.upstream import use_transport
    from sandbox import Sandbox

    sb = Sandbox(products=60, seed=7, api_key=SANDBOX_API_KEY)
    settings.LICENDI_BASE_URL = "http://sandbox.test"
    settings.LICENDI_API_KEY = SANDBOX_API_KEY
    with use_transport(sb.transport()):
        yield sb


def ensure_roles() -> None:
    """Recreate the role groups when a transactional test's flush removed them.

    The groups come from a data migration; a flush keeps permissions (recreated by
    post_migrate) but not groups.
    """
    if Group.objects.filter(name__in=ROLES).count() == len(ROLES):
        return
    from django.apps import apps

    roles_migration = importlib.import_module("backoffice.migrations.0002_roles")
    roles_migration.create_roles(apps, None)


def make_user(username: str, *roles: str, password: str = "pw-for-tests-only"):
    ensure_roles()
    user = get_user_model().objects.create_user(username=username, password=password)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def user_in_role(db):
    """user_in_role("Buyer") -> a new user holding that role (and only that one)."""
    counter = iter(range(10_000))

    def _make(*roles: str):
        return make_user(
            f"{'-'.join(r.lower().replace(' ', '') for r in roles) or 'norole'}-{next(counter)}",
            *roles,
        )

    return _make


@pytest.fixture
def client_for(user_in_role):
    """client_for("Buyer") -> a logged-in test client for a new user in that role."""

    def _client(*roles: str) -> Client:
        client = Client()
        client.force_login(user_in_role(*roles))
        return client

    return _client


@pytest.fixture
def admin_client(client_for) -> Client:
    return client_for("Admin")


ALL_ROLES = list(ROLES)


def messages_of(response) -> list[str]:
    """The messages a view added while answering `response` (Django's messages framework)."""
    from django.contrib.messages import get_messages

    return [str(message) for message in get_messages(response.wsgi_request)]


ROOT = Path(__file__).resolve().parent.parent


def python_in_new_process(
    code: str, *, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`code` run by this interpreter in a fresh process at the top of the checkout, with
    `env` over this environment (what a process started on its own does, which a test in
    this process cannot show); raises if it fails."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
