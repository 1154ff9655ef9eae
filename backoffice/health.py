"""`/healthz`: is this web process able to serve (database, broker), and are syncs fresh.

Answers 200 when the database and the broker answer, 503 otherwise. The body carries
only "ok"/"error" and ages in seconds: never an exception text, which could hold a
hostname or a password from a connection URL.
"""

import logging
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .upstream_selectors import new_shapes

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("healthz: database check failed (%s)", type(exc).__name__)
        return False
    return True


def broker_ok() -> bool:
    url: str = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                socket_timeout=BROKER_TIMEOUT_SECONDS,
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        from kombu import Connection

        with Connection(
            url,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=int(BROKER_TIMEOUT_SECONDS))
            return True
    except Exception as exc:  # any failure means "not ok"; the class name is enough to log
        logger.warning("healthz: broker check failed (%s)", type(exc).__name__)
        return False


def _age_seconds(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return max(0, int((timezone.now() - moment).total_seconds()))


def catalog_sync_age() -> int | None:
    """Seconds since the last successful catalog sync finished; None if none (yet)."""
    if not apps.is_installed("catalog"):
        return None
    try:
        sync_run = apps.get_model("catalog", "SyncRun")
        finished = (
            sync_run.objects.filter(status="succeeded", finished_at__isnull=False)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
    except (LookupError, DatabaseError) as exc:
        logger.warning("healthz: catalog sync age unavailable (%s)", type(exc).__name__)
        return None
    return _age_seconds(finished)


def wallet_sync_age() -> int | None:
    """Seconds since the last successful wallet sync; None if none (yet)."""
    if not apps.is_installed("wallet"):
        return None
    try:
        sync_status = apps.get_model("wallet", "SyncStatus")
        last_success = (
            sync_status.objects.filter(last_success_at__isnull=False)
            .order_by("-last_success_at")
            .values_list("last_success_at", flat=True)
            .first()
        )
    except (LookupError, DatabaseError) as exc:
        logger.warning("healthz: wallet sync age unavailable (%s)", type(exc).__name__)
        return None
    return _age_seconds(last_success)


def upstream_new_shapes() -> dict[str, Any] | None:
    """Shapes of Licendi's answers nobody has looked at yet: a count and since when.

    Informational: a new shape is read (or its record quarantined), it does not make
    this process unhealthy, but a monitor should tell someone.
    """
    try:
        shapes = new_shapes()
    except DatabaseError as exc:
        logger.warning("healthz: upstream shapes unavailable (%s)", type(exc).__name__)
        return None
    return {
        "count": shapes.count,
        "since": shapes.since.isoformat() if shapes.since else None,
    }


def health_report() -> tuple[bool, dict[str, Any]]:
    db = database_ok()
    broker = broker_ok()
    healthy = db and broker
    report: dict[str, Any] = {
        "status": "ok" if healthy else "error",
        "database": "ok" if db else "error",
        "broker": "ok" if broker else "error",
        # Ages need the database; without it they are unknown.
        "catalog_sync_age_seconds": catalog_sync_age() if db else None,
        "wallet_sync_age_seconds": wallet_sync_age() if db else None,
        "upstream_new_shapes": upstream_new_shapes() if db else None,
    }
    return healthy, report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public on purpose (load balancers and monitors call it without a login)."""
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
