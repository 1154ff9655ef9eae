"""Celery tasks of the catalog: thin wrappers around catalog.services."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from .models import SyncRun
from .services import catalog_sync as catalog_sync_service


@shared_task(name="catalog.tasks.catalog_sync")
def catalog_sync(trigger: str = SyncRun.Trigger.BEAT, user_id: int | None = None) -> int:
    """Run one catalog sync; returns the SyncRun id.

    No Celery retry: the client already retries transient upstream errors within the
    run, a failed run is recorded with its cause and the next scheduled run starts
    afresh. A duplicate delivery of this task finds the lock held and records a skip.
    """
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return catalog_sync_service(trigger=trigger, user=user).pk
