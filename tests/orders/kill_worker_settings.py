"""Settings of the real Celery worker that the kill test starts and kills.

The test settings, pointed at the test's own database, encryption keys, broker and the
sandbox it serves on a port; tasks run in the worker, not eagerly.
"""

import os

from backoffice.settings.test import *  # noqa: F403
from backoffice.settings.test import DATABASES

DATABASES = {"default": {**DATABASES["default"], "NAME": os.environ["KILL_TEST_DB_NAME"]}}
FIELD_ENCRYPTION_KEYS = os.environ["KILL_TEST_FIELD_KEYS"].split(",")
LICENDI_BASE_URL = os.environ["KILL_TEST_LICENDI_URL"]
CELERY_BROKER_URL = os.environ["KILL_TEST_BROKER_URL"]
CELERY_TASK_ALWAYS_EAGER = False
CELERY_VISIBILITY_TIMEOUT_SECONDS = int(os.environ["KILL_TEST_VISIBILITY_TIMEOUT"])
CELERY_MAX_COUNTDOWN_SECONDS = max(CELERY_VISIBILITY_TIMEOUT_SECONDS - 10, 1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
