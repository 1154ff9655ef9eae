"""`manage.py catalog_sync`: the catalog sync from a terminal, with a progress bar."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.models import SyncRun
from catalog.services import catalog_sync

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Mirror the Licendi catalog now (the same service as the scheduled task)."

    def handle(self, *args: Any, **options: Any) -> None:
        self._last_draw = 0.0
        run = catalog_sync(trigger=SyncRun.Trigger.COMMAND, progress=self._draw)
        self.stdout.write("")
        if run.status == SyncRun.Status.SKIPPED:
            raise CommandError(run.error)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(f"Sync #{run.pk} failed: {run.error}")
        seconds = run.duration.total_seconds() if run.duration is not None else 0.0
        quarantined = f", {run.quarantined} quarantined" if run.quarantined else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Sync #{run.pk} succeeded{quarantined} in {seconds:.1f}s: "
                f"{run.seen} seen, {run.created} created, {run.updated} updated, "
                f"{run.unchanged} unchanged, {run.deactivated} deactivated, "
                f"{run.price_changes} price changes, {run.detail_requests} detail requests."
            )
        )
        if run.error:
            self.stdout.write(self.style.WARNING(run.error))

    def _draw(self, run: SyncRun) -> None:
        now = time.monotonic()
        finished = run.status != SyncRun.Status.RUNNING
        if not finished and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        total = run.progress_total or 0
        done = min(run.progress_done, total) if total else run.progress_done
        filled = round(BAR_WIDTH * done / total) if total else 0
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        label = run.get_phase_display()
        counter = f"{done}/{total}" if total else f"{done}"
        # \r redraws the same terminal line; the padding wipes a longer previous line.
        self.stdout.write(f"\r[{bar}] {label}: {counter}".ljust(79), ending="")
        self.stdout.flush()
