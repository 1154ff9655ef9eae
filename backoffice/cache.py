"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

`django.core.cache.backends.redis.RedisCacheClient.get_client` builds a new `redis.Redis`
for every cache operation, and building one fills its table of about 200 response
callbacks; a list page makes a dozen cache calls (its kept counts and filter choices, the
login throttle, the drain flag), so that was a measurable share of a page's CPU.
A `redis.Redis` is safe to share between threads (each command takes a connection from
the pool), so one per pool serves every thread of the process.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # The same choice of server as Django's (writes to the first, reads spread over
        # the others), then the client kept for that server's pool. Django's pool
        # bookkeeping (`_pools`, `_servers`...) is private and absent from its stubs.
        django: Any = self
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    if index not in django._pools:
                        django._pools[index] = django._pool_class.from_url(
                            django._servers[index], **django._pool_options
                        )
                    client = django._client(connection_pool=django._pools[index])
                    self._clients[index] = client
        return client


class SharedClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `SharedClientRedisCacheClient`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
