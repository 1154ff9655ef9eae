"""Settings of the webhook comparison's gunicorn: the back-office as benchmarked, plus the floor.

The development settings with the cache in Redis, as in production (the receiver's
drain flag lives in the cache), and a URLconf that adds the bare floor view beside the
project's receiver, so both are answered by the same gunicorn workers.
"""

from backoffice.settings.dev import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks_floor"
CACHES = {
    "default": {
        "BACKEND": "backoffice.cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,  # noqa: F405
    }
}
