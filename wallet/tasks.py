"""Celery tasks of the wallet: thin wrappers around wallet.services."""

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.core.cache import cache

from . import services

logger = logging.getLogger(__name__)

SYNC_MAX_RETRIES = 3
# Only one follow-up read is queued at a time, however many orders ask for one.
_SOON_KEY = "wallet:sync-soon-queued"


@shared_task(
    bind=True,
    name="wallet.tasks.wallet_sync",
    max_retries=SYNC_MAX_RETRIES,
    acks_late=True,
)
def wallet_sync(self: Task[Any, dict[str, int]], reason: str = "schedule") -> dict[str, int]:
    """Read the balance and ledger upstream (beat, after every order, the Refresh button).

    Retries with backoff only on transient upstream errors; every failure is recorded by
    the service. When the read was a full window of new entries, more may have happened
    than upstream shows, so another read is queued soon.
    """
    try:
        result = services.wallet_sync()
    except Exception as exc:
        retries = self.request.retries or 0
        if services.wallet_sync_failure_is_transient(exc) and retries < SYNC_MAX_RETRIES:
            countdown = min(
                services.wallet_sync_soon_countdown() * 2**retries,
                settings.CELERY_MAX_COUNTDOWN_SECONDS,
            )
            raise self.retry(exc=exc, countdown=countdown) from exc
        raise
    if result.may_have_missed:
        wallet_sync_soon(reason="full window of new entries")
    return {"read": result.read, "new": result.new, "gaps_opened": result.gaps_opened}


def wallet_sync_soon(*, reason: str) -> None:
    """Queue one wallet read shortly (after an order, or after a full window of new entries).

    Call it inside transaction.on_commit when it follows a database change.
    """
    countdown = services.wallet_sync_soon_countdown()
    if cache.add(_SOON_KEY, reason, timeout=countdown):
        wallet_sync.apply_async(kwargs={"reason": reason}, countdown=countdown)
