"""Sync runs: the lock that lets one sync run at a time, and its live progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.jobs import enqueue

from ..models import SyncRun

ProgressCallback = Callable[[SyncRun], None]

# Progress is written to the run row at most this often (the live page polls every 2 s).
PROGRESS_WRITE_SECONDS = 0.5


def sync_run_start(*, trigger: str, user: Any) -> SyncRun:
    """A new running SyncRun, or a finished "skipped" one when another sync holds the lock.

    The lock is the partial unique index on status='running': the INSERT itself is the
    atomic test-and-set, on PostgreSQL and SQLite alike. A running row whose heartbeat is
    older than the task hard time limit belongs to a dead worker and is taken over.
    """
    triggered_by = user if getattr(user, "is_authenticated", False) else None
    for _attempt in range(2):
        now = timezone.now()
        try:
            with transaction.atomic():
                return SyncRun.objects.create(
                    started_at=now,
                    heartbeat_at=now,
                    status=SyncRun.Status.RUNNING,
                    trigger=trigger,
                    triggered_by=triggered_by,
                )
        except IntegrityError:
            stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
            taken_over = SyncRun.objects.filter(
                status=SyncRun.Status.RUNNING, heartbeat_at__lt=stale_before
            ).update(
                status=SyncRun.Status.FAILED,
                finished_at=now,
                error="Abandoned: no progress for longer than the task time limit; "
                "taken over by a new sync.",
            )
            if not taken_over:
                break
    holder = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values_list("pk", flat=True)
    now = timezone.now()
    return SyncRun.objects.create(
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
        status=SyncRun.Status.SKIPPED,
        trigger=trigger,
        triggered_by=triggered_by,
        phase=SyncRun.Phase.DONE,
        error=f"Another sync was running (run #{holder.first()}).",
    )


class Progress:
    """Writes the run's progress to its row (throttled) and tells an optional listener."""

    FIELDS = ("phase", "progress_done", "progress_total", "seen", "detail_requests")

    def __init__(self, run: SyncRun, listener: ProgressCallback | None) -> None:
        self.run = run
        self.listener = listener
        self._written = 0.0

    def report(
        self,
        *,
        phase: str | None = None,
        done: int | None = None,
        total: int | None = None,
        force: bool = False,
    ) -> None:
        run = self.run
        if phase is not None:
            run.phase = phase
        if done is not None:
            run.progress_done = done
        if total is not None:
            run.progress_total = total
        now = time.monotonic()
        if force or now - self._written >= PROGRESS_WRITE_SECONDS:
            self._written = now
            run.heartbeat_at = timezone.now()
            # A plain UPDATE in autocommit: the live page sees it at once.
            SyncRun.objects.filter(pk=run.pk).update(
                heartbeat_at=run.heartbeat_at, **{name: getattr(run, name) for name in self.FIELDS}
            )
        if self.listener is not None:
            self.listener(run)


class SyncAlreadyRunning(Exception):
    """A sync was asked for while another one runs."""

    def __init__(self, run: SyncRun) -> None:
        super().__init__(f"Sync #{run.pk} is already running.")
        self.run = run


def catalog_sync_request(*, user: Any) -> None:
    """Queue a catalog sync started by `user` ("Sync now"), once this transaction commits.

    Raises SyncAlreadyRunning when one runs already. A request that races another
    still ends well: the second run finds the lock held and records a skip.
    """
    running = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).first()
    if running is not None:
        raise SyncAlreadyRunning(running)
    enqueue(
        "catalog.tasks.catalog_sync",
        trigger=SyncRun.Trigger.MANUAL,
        user_id=user.pk if getattr(user, "is_authenticated", False) else None,
    )
