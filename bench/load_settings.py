"""Settings of the catalog load comparison's gunicorn: the webhook bench's, another URLconf.

bench/webhooks_settings.py makes the deployed configuration runnable here (DEBUG off, the
cache in Redis as in production); bench/load_urls.py sets the admin reference up as the
in-process catalog comparison does.
"""

from bench.webhooks_settings import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
