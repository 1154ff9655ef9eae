"""Production settings: refuse to start without the secrets they need.

Run behind a TLS-terminating proxy with gunicorn; see docs/operations.md.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import EMAIL_BACKEND, REDIS_URL, env

REQUIRED = [
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "KEY_HASH_SECRET",
    "LICENDI_API_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
]
_missing = [name for name in REQUIRED if not env.str(name, default="").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
KEY_HASH_SECRET = env.str("KEY_HASH_SECRET")
LICENDI_API_KEY = env.str("LICENDI_API_KEY")
LICENDI_BASE_URL = env.str("LICENDI_BASE_URL", default="https://licendi.es")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

CACHES = {"default": {"BACKEND": "backoffice.cache.SharedClientRedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,  # noqa: F405
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# TLS: the proxy terminates it and sets X-Forwarded-Proto. Trusting that header is only
# safe when the proxy always sets (overwrites) it: SECURE_PROXY_SSL_HEADER names it as
# "HEADER,value"; set it empty when Django is reached without such a proxy.
_proxy_header = env.list("SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"])
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured(
        'SECURE_PROXY_SSL_HEADER must be "HEADER,value" '
        "(e.g. HTTP_X_FORWARDED_PROTO,https) or empty"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe /healthz over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
if not (env.str("EMAIL_URL", default="") or env.str("EMAIL_BACKEND", default="")):
    # Nothing configured: SMTP on EMAIL_HOST:EMAIL_PORT (localhost:25 by default).
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    # A customer e-mail carries licence keys: the console backend would write them into
    # the process log, where every log reader and shipper sees them.
    raise ImproperlyConfigured(
        "EMAIL_BACKEND is the console backend, which writes licence keys into the logs: "
        "configure SMTP (EMAIL_URL) or the file backend"
    )

# security.W021 (HSTS preload): submitting to the browsers' preload list is a decision
# for the whole registrable domain, not for one back-office host, and cannot be undone
# quickly; SECURE_HSTS_PRELOAD=true opts in. HSTS itself (with subdomains) is on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
