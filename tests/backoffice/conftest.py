import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Login failure counters live in the cache (Redis): each test starts from none."""
    cache.clear()
    yield
    cache.clear()
