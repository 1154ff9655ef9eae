"""Wallet fixtures: the sandbox wired as upstream, and a sync helper."""

import pytest
from django.core.cache import cache

from wallet import services


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The follow-up-sync marker lives in the cache; each test starts without one.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sync(sandbox, db):
    """sync() -> one wallet read against the sandbox."""

    def _sync():
        return services.wallet_sync()

    return _sync
