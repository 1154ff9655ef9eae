"""Test settings: real PostgreSQL and Redis like production, tasks run eagerly.

DATABASE_URL and REDIS_URL default to the local services on this machine.
"""

import os

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - test settings only
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/backoffice"),
}
# Each pytest-xdist worker gets its own Redis database: cache.clear() flushes one.
# TEST_REDIS_DB_BASE lets two checkouts run their suites at once without sharing one.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
_redis_base = env.int("TEST_REDIS_DB_BASE", default=15)
_redis_db = _redis_base - (int(_worker) if _worker.isdigit() else 0) % 2
REDIS_URL = (
    env.str("REDIS_URL", default="redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + f"/{_redis_db}"
)
CACHES = {
    "default": {
        "BACKEND": "backoffice.cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "test",
    }
}
# Fresh keys for every run: nothing encrypted in a test database is readable later.
FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
KEY_HASH_SECRET = "test-key-hash-secret"  # noqa: S105 - test settings only
LICENDI_BASE_URL = "http://sandbox.test"
LICENDI_API_KEY = "sandbox-test-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,  # noqa: F405
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tasks run eagerly here: each delivery's commit runs its drain at once, in its thread.
WEBHOOK_DRAIN_QUEUE_SECONDS = 0
