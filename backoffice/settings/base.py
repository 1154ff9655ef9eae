"""Settings shared by every environment, read from the environment (django-environ).

OS variables win over `.env` (django-environ's `read_env` does not overwrite).
Every variable is documented in README.md, section "Configuration".
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def env_decimal(name: str, default: str) -> Decimal:
    """Money and percentages from the environment, as Decimal (never float)."""
    from django.core.exceptions import ImproperlyConfigured

    raw = env.str(name, default=default)
    try:
        return Decimal(raw)
    except ArithmeticError as exc:
        raise ImproperlyConfigured(f"{name} must be a decimal number, got {raw!r}") from exc


DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its form templates, for the project's FORM_RENDERER
    "django_tables2",
    "django_filters",
    "backoffice",
    "catalog",
    "orders",
    "wallet",
    "webhooks",
    "dashboard",
    "notifications",
    "channel",
]

MIDDLEWARE = [
    "backoffice.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backoffice.context.AuditContextMiddleware",
    "backoffice.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backoffice.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backoffice.context_processors.navigation",
                "wallet.context_processors.wallet_status",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]


def sqlite_for_several_processes(database: dict[str, Any]) -> dict[str, Any]:
    """SQLite options that let web, worker and beat share one file (the demo).

    WAL lets readers go on while one process writes. IMMEDIATE takes the write lock when a
    transaction begins: a deferred transaction that read first cannot wait for the lock
    when it then writes, it fails at once with "database is locked". `timeout` is how long
    a writer waits for the lock (the busy timeout), in seconds. Other engines are untouched.
    """
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return database
    options = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    return {**database, "OPTIONS": {**options, **database.get("OPTIONS", {})}}


# Bootstrap classes on every form widget, from one place (backoffice/form_rendering.py).
FORM_RENDERER = "backoffice.form_rendering.BootstrapFormRenderer"

DATABASES = {
    "default": sqlite_for_several_processes(
        env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Madrid")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Idle staff are logged out: the session expires SESSION_IDLE_SECONDS after their last
# request. backoffice.middleware.IdleSessionMiddleware saves the session (pushing the
# expiry forward) on requests other than background htmx polling, at most once every
# SESSION_IDLE_REFRESH_SECONDS: a user is logged out between SESSION_IDLE_SECONDS minus
# that and SESSION_IDLE_SECONDS after their last request, never later, and a page load
# inside the interval writes nothing (the save was 3 of a list page's 7 statements).
# Sessions are read from the cache and written to both (Django's cached_db): a page no
# longer reads its session row from the database; the database still holds every
# session, so a cache restart logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_IDLE_REFRESH_SECONDS = env.int("SESSION_IDLE_REFRESH_SECONDS", default=60)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A CSRF refusal renders the project's 403 page (request id only), not Django's own.
CSRF_FAILURE_VIEW = "backoffice.errors.csrf_failure"
# The proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed
# when finding the client address (backoffice.audit.client_ip). Empty: the TCP peer is
# the client. Behind nginx on the same host: 127.0.0.1. See docs/operations.md.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])


def _check_networks(name: str, values: list[str]) -> None:
    import ipaddress

    from django.core.exceptions import ImproperlyConfigured

    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} holds {value!r}, which is not an address or network"
            ) from exc


_check_networks("TRUSTED_PROXIES", TRUSTED_PROXIES)
# After LOGIN_FAILURE_LIMIT failed logins for one username from one address, or
# LOGIN_ADDRESS_FAILURE_LIMIT from one address whatever the usernames, logins are refused
# for LOGIN_LOCKOUT_SECONDS after the last failure (backoffice/login_throttle.py).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)


# --- Mail (keys to customers) ----------------------------------------------
def email_config(default_url: str) -> dict[str, Any]:
    """Django's EMAIL_* settings from the environment, the django-environ way.

    EMAIL_URL names the backend and its server in one value (`smtp+tls://user:password@
    smtp.example.com:587`, `smtp+ssl://…:465`, `filemail:////srv/mail`, `memorymail://`);
    each individual variable (EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
    EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL, EMAIL_FILE_PATH, EMAIL_TIMEOUT),
    when set, wins over it. `default_url` applies when EMAIL_URL is not set.
    """
    from django.core.exceptions import ImproperlyConfigured

    url = env.email_url("EMAIL_URL", default=default_url)
    config: dict[str, Any] = {
        "EMAIL_BACKEND": env.str("EMAIL_BACKEND", default=url["EMAIL_BACKEND"]),
        "EMAIL_HOST": env.str("EMAIL_HOST", default=url.get("EMAIL_HOST") or "localhost"),
        "EMAIL_PORT": env.int("EMAIL_PORT", default=url.get("EMAIL_PORT") or 25),
        "EMAIL_HOST_USER": env.str("EMAIL_HOST_USER", default=url.get("EMAIL_HOST_USER") or ""),
        "EMAIL_HOST_PASSWORD": env.str(
            "EMAIL_HOST_PASSWORD", default=url.get("EMAIL_HOST_PASSWORD") or ""
        ),
        "EMAIL_USE_TLS": env.bool("EMAIL_USE_TLS", default=bool(url.get("EMAIL_USE_TLS"))),
        "EMAIL_USE_SSL": env.bool("EMAIL_USE_SSL", default=bool(url.get("EMAIL_USE_SSL"))),
        "EMAIL_FILE_PATH": env.str(
            "EMAIL_FILE_PATH", default=url.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
        ),
        # Without a timeout an unanswering server holds the request until gunicorn kills it.
        "EMAIL_TIMEOUT": env.int("EMAIL_TIMEOUT", default=10),
    }
    if config["EMAIL_USE_TLS"] and config["EMAIL_USE_SSL"]:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS (STARTTLS, usually port 587) and EMAIL_USE_SSL (implicit TLS, "
            "usually port 465) exclude each other: set one"
        )
    return config


# The demo writes every mail as a file under var/mail (the keys of a customer e-mail must
# never be printed into a log, as the console backend would); production defaults to SMTP.
# (A bare filemail:// writes to EMAIL_FILE_PATH, by default var/mail: a path inside the
# URL would be unquoted, turning a "+" in the checkout's path into a space.)
_email = email_config("filemail://")
EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
EMAIL_HOST: str = _email["EMAIL_HOST"]
EMAIL_PORT: int = _email["EMAIL_PORT"]
EMAIL_HOST_USER: str = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD: str = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS: bool = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL: bool = _email["EMAIL_USE_SSL"]
EMAIL_FILE_PATH: str = _email["EMAIL_FILE_PATH"]
EMAIL_TIMEOUT: int = _email["EMAIL_TIMEOUT"]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="keys@reseller.example")
# Where staff open the back-office: notification e-mails link to pages under it.
BACKOFFICE_BASE_URL = env.str("BACKOFFICE_BASE_URL", default="http://127.0.0.1:8000")

DJANGO_TABLES2_TEMPLATE = "partials/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}

# --- Secrets -----------------------------------------------------------------
# Fernet keys (urlsafe base64, 32 bytes), comma-separated, newest first: the first
# encrypts, all decrypt, so keys can be rotated (see docs/operations.md).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# HMAC key for the keyed hash that makes a licence key unique without storing it
# in clear. Separate from the encryption keys so rotating those keeps the hashes.
KEY_HASH_SECRET = env.str("KEY_HASH_SECRET", default="")

# --- Licendi upstream --------------------------------------------------------
LICENDI_BASE_URL = env.str("LICENDI_BASE_URL", default="http://127.0.0.1:8100")
LICENDI_API_KEY = env.str("LICENDI_API_KEY", default="")
LICENDI_TIMEOUT_SECONDS = env.float("LICENDI_TIMEOUT_SECONDS", default=15.0)
LICENDI_MAX_RETRIES = env.int("LICENDI_MAX_RETRIES", default=4)
# The public URL Licendi posts webhooks to (shown on the endpoint page as the default).
WEBHOOK_PUBLIC_URL = env.str("WEBHOOK_PUBLIC_URL", default="http://127.0.0.1:8000/hooks/licendi")
# How deliveries are signed (docs/webhooks.md): "standard-webhooks" (webhook-id,
# webhook-timestamp, webhook-signature), "hmac-sha256" (HMAC of the raw body, hex or
# base64, in WEBHOOK_SIGNATURE_HEADER, default X-Signature) or "stripe" (t=…,v1=… in
# WEBHOOK_SIGNATURE_HEADER, default Stripe-Signature).
WEBHOOK_SIGNATURE_SCHEME = env.str("WEBHOOK_SIGNATURE_SCHEME", default="standard-webhooks")
WEBHOOK_SIGNATURE_HEADER = env.str("WEBHOOK_SIGNATURE_HEADER", default="")
_SIGNATURE_SCHEMES = ("standard-webhooks", "hmac-sha256", "stripe")
if WEBHOOK_SIGNATURE_SCHEME not in _SIGNATURE_SCHEMES:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"WEBHOOK_SIGNATURE_SCHEME must be one of {', '.join(_SIGNATURE_SCHEMES)}, "
        f"got {WEBHOOK_SIGNATURE_SCHEME!r}"
    )
# The replay window of the timestamped schemes (standard-webhooks, stripe), both ways.
WEBHOOK_TOLERANCE_SECONDS = env.int("WEBHOOK_TOLERANCE_SECONDS", default=300)
# Larger delivery bodies are answered 413 before being read.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
# How long each process keeps the decrypted endpoint secrets.
WEBHOOK_SECRET_CACHE_SECONDS = env.int("WEBHOOK_SECRET_CACHE_SECONDS", default=30)
# An event still waiting for its order after this long is marked "order not ours".
WEBHOOK_FOREIGN_AFTER_HOURS = env.int("WEBHOOK_FOREIGN_AFTER_HOURS", default=24)

# --- Business thresholds -----------------------------------------------------
PO_APPROVAL_THRESHOLD = env_decimal("PO_APPROVAL_THRESHOLD", "500.00")
PRICE_GUARD_TOLERANCE_PERCENT = env_decimal("PRICE_GUARD_TOLERANCE_PERCENT", "2.0")
MIN_MARGIN_PERCENT = env_decimal("MIN_MARGIN_PERCENT", "10.0")
LOW_BALANCE_THRESHOLD = env_decimal("LOW_BALANCE_THRESHOLD", "200.00")
# The home page lists, and notifications report, POs still awaiting their keys this long
# after submission, and POs whose outcome stayed unknown this long.
PENDING_DELIVERY_ALERT_HOURS = env.int("PENDING_DELIVERY_ALERT_HOURS", default=2)
PO_UNKNOWN_ALERT_MINUTES = env.int("PO_UNKNOWN_ALERT_MINUTES", default=30)
# Detail fetches in flight: the sync starts at CATALOG_SYNC_CONCURRENCY and adapts to the
# supplier (more while answers are fast, half on 429/5xx) up to the ceiling.
CATALOG_SYNC_CONCURRENCY = env.int("CATALOG_SYNC_CONCURRENCY", default=4)
CATALOG_SYNC_MAX_CONCURRENCY = env.int("CATALOG_SYNC_MAX_CONCURRENCY", default=32)
CATALOG_SYNC_PAGE_SIZE = env.int("CATALOG_SYNC_PAGE_SIZE", default=500)
# A sync that cannot read more than this share of the records applies nothing.
UPSTREAM_QUARANTINE_MAX_PERCENT = env_decimal("UPSTREAM_QUARANTINE_MAX_PERCENT", "5")
# Quarantined records are pruned once this old (days; 0 keeps them for ever).
QUARANTINE_RETENTION_DAYS = env.int("QUARANTINE_RETENTION_DAYS", default=90)

# --- Sales channel ------------------------------------------------------------
# Beat: a full refresh of the offers feed's change markers (the catalog's signal
# refreshes them after each sync or repricing; this repairs anything a lost task missed).
CHANNEL_OFFERS_REFRESH_INTERVAL_SECONDS = env.int(
    "CHANNEL_OFFERS_REFRESH_INTERVAL_SECONDS", default=900
)
# Beat: fulfilments still waiting on their purchase order are checked this often.
CHANNEL_FULFILMENT_SWEEP_SECONDS = env.int("CHANNEL_FULFILMENT_SWEEP_SECONDS", default=120)
CHANNEL_CALLBACK_TIMEOUT_SECONDS = env.float("CHANNEL_CALLBACK_TIMEOUT_SECONDS", default=10.0)
# The API call log is pruned once this old (days; 0 keeps it for ever).
CHANNEL_CALL_RETENTION_DAYS = env.int("CHANNEL_CALL_RETENTION_DAYS", default=365)

# --- Celery ------------------------------------------------------------------
CATALOG_SYNC_INTERVAL_SECONDS = env.int("CATALOG_SYNC_INTERVAL_SECONDS", default=3600)
WALLET_SYNC_INTERVAL_SECONDS = env.int("WALLET_SYNC_INTERVAL_SECONDS", default=300)
# A follow-up wallet read after an order or a full window of new ledger entries.
WALLET_SYNC_SOON_SECONDS = env.int("WALLET_SYNC_SOON_SECONDS", default=20)
ORDER_POLL_INTERVAL_SECONDS = env.int("ORDER_POLL_INTERVAL_SECONDS", default=120)
ORDER_IMPORT_INTERVAL_SECONDS = env.int("ORDER_IMPORT_INTERVAL_SECONDS", default=900)
# Crash recovery (docs/orders.md, "A crashed worker"): a PO left queued or submitting
# longer than ORDER_RECOVERY_AFTER_SECONDS is picked up by a sweep that runs every
# ORDER_RECOVERY_INTERVAL_SECONDS; the row lock keeps a live submission out of its way.
ORDER_RECOVERY_INTERVAL_SECONDS = env.int("ORDER_RECOVERY_INTERVAL_SECONDS", default=60)
ORDER_RECOVERY_AFTER_SECONDS = env.int("ORDER_RECOVERY_AFTER_SECONDS", default=45)
WEBHOOK_RETRY_INTERVAL_SECONDS = env.int("WEBHOOK_RETRY_INTERVAL_SECONDS", default=300)
# Received events are applied by a drain queued right after the receiver commits; this
# beat drain only bounds the delay when such a queued drain was lost.
WEBHOOK_DRAIN_SWEEP_SECONDS = env.int("WEBHOOK_DRAIN_SWEEP_SECONDS", default=15)
# A web process asks for a drain at most this often (and once after its last delivery),
# so a burst of deliveries does not pay a cache round trip each (docs/webhooks.md).
WEBHOOK_DRAIN_QUEUE_SECONDS = env.float("WEBHOOK_DRAIN_QUEUE_SECONDS", default=0.25)
NOTIFICATIONS_SCAN_INTERVAL_SECONDS = env.int("NOTIFICATIONS_SCAN_INTERVAL_SECONDS", default=60)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: folders on disk shared by web, worker and beat on one machine.
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Redis hands an unacknowledged task (its worker was killed) to another worker after
# this long, checked every `unacked_restore_interval` seconds. Short, so a crash costs
# about a minute; every task is idempotent, so a slow task redelivered while still
# running does no harm (the second run finds the row locked or the work done). No
# countdown may exceed it (CELERY_MAX_COUNTDOWN_SECONDS), or the task would run twice.
CELERY_VISIBILITY_TIMEOUT_SECONDS = env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=60)
CELERY_MAX_COUNTDOWN_SECONDS = max(CELERY_VISIBILITY_TIMEOUT_SECONDS - 10, 1)
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only once it finished: a worker killed mid-task leaves it to be
# redelivered, which the idempotent services make harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=15 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=16 * 60)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "catalog-sync": {
        "task": "catalog.tasks.catalog_sync",
        "schedule": CATALOG_SYNC_INTERVAL_SECONDS,
    },
    "wallet-sync": {
        "task": "wallet.tasks.wallet_sync",
        "schedule": WALLET_SYNC_INTERVAL_SECONDS,
    },
    "orders-poll-pending": {
        "task": "orders.tasks.purchase_orders_poll_pending",
        "schedule": ORDER_POLL_INTERVAL_SECONDS,
    },
    "orders-recover": {
        "task": "orders.tasks.purchase_orders_recover",
        "schedule": ORDER_RECOVERY_INTERVAL_SECONDS,
    },
    "orders-import": {
        "task": "orders.tasks.purchase_orders_import",
        "schedule": ORDER_IMPORT_INTERVAL_SECONDS,
    },
    "webhooks-drain": {
        "task": "webhooks.tasks.webhook_events_drain",
        "schedule": WEBHOOK_DRAIN_SWEEP_SECONDS,
    },
    "webhooks-process-waiting": {
        "task": "webhooks.tasks.webhook_events_process_waiting",
        "schedule": WEBHOOK_RETRY_INTERVAL_SECONDS,
    },
    "notifications-scan": {
        "task": "notifications.tasks.notifications_scan",
        "schedule": NOTIFICATIONS_SCAN_INTERVAL_SECONDS,
    },
    "channel-offers-refresh": {
        "task": "channel.tasks.offers_refresh",
        "schedule": CHANNEL_OFFERS_REFRESH_INTERVAL_SECONDS,
    },
    "channel-fulfilments-sync": {
        "task": "channel.tasks.fulfilments_sync_pending",
        "schedule": CHANNEL_FULFILMENT_SWEEP_SECONDS,
    },
    # Logs past their retention (backoffice.retention), once a day.
    "upstream-quarantine-prune": {
        "task": "backoffice.tasks.quarantine_prune",
        "schedule": 24 * 60 * 60,
    },
    "channel-calls-prune": {
        "task": "channel.tasks.calls_prune",
        "schedule": 24 * 60 * 60,
    },
}

# --- Logging -----------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "backoffice.logging.RequestIdFilter"},
        "redact": {"()": "backoffice.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {"()": "backoffice.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
