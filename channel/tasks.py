"""Celery tasks of the channel: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)

# Backoff of a callback the shop did not take: 30 s, 1, 2, 4 min ... capped at 30 min
# (below the broker's visibility timeout); then it is marked failed, to be resent by hand.
CALLBACK_RETRY_BASE_SECONDS = 30
CALLBACK_RETRY_MAX_SECONDS = 30 * 60
CALLBACK_MAX_RETRIES = 8


@shared_task
def offers_refresh(combination_ids: list[int] | None = None) -> int:
    return services.offers_refresh(combination_ids=combination_ids)


@shared_task
def fulfilment_sync(fulfilment_id: int) -> str:
    return str(services.fulfilment_sync(fulfilment_id=fulfilment_id).state)


@shared_task
def fulfilments_sync_pending() -> dict[str, Any]:
    return services.fulfilments_sync_pending()


@shared_task
def calls_prune() -> int:
    return services.calls_prune()


@shared_task(bind=True, max_retries=CALLBACK_MAX_RETRIES, acks_late=True)
def callback_deliver(self: Any, delivery_id: int) -> str:
    try:
        services.callback_send(delivery_id=delivery_id)
    except services.CallbackFailed as exc:
        if self.request.retries >= self.max_retries:
            services.callback_give_up(delivery_id=delivery_id)
            logger.warning("callback %s given up: %s", delivery_id, exc)
            return "failed"
        countdown = min(
            CALLBACK_RETRY_BASE_SECONDS * 2**self.request.retries, CALLBACK_RETRY_MAX_SECONDS
        )
        raise self.retry(exc=exc, countdown=countdown) from exc
    return "delivered"
