"""The Redis cache keeps one client per server instead of building one per call."""

from concurrent.futures import ThreadPoolExecutor

from django.core.cache import caches

from backoffice.cache import SharedClientRedisCache


def test_every_call_uses_the_same_client_and_still_reads_what_it_wrote():
    cache = caches["default"]
    assert isinstance(cache, SharedClientRedisCache)
    first = cache._cache.get_client(write=True)
    cache.set("shared-client-check", {"n": 1}, 30)
    assert cache.get("shared-client-check") == {"n": 1}
    assert cache._cache.get_client() is first
    assert cache._cache.get_client(write=True) is first


def test_threads_share_the_client_without_losing_an_increment():
    cache = caches["default"]
    cache.set("shared-client-counter", 0, 30)

    def bump(_):
        return cache.incr("shared-client-counter")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(bump, range(400)))

    assert cache.get("shared-client-counter") == 400
    assert sorted(results) == list(range(1, 401))


def test_reads_spread_over_replicas_and_writes_go_to_the_first_server(settings):
    base = settings.CACHES["default"]["LOCATION"]
    cache = SharedClientRedisCache(f"{base},{base}", {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client()
    assert writer is not reader
    assert writer.connection_pool is cache._cache._pools[0]
    assert reader.connection_pool is cache._cache._pools[1]
