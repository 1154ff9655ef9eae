"""Print the demo login again once the first catalog sync has finished.

`make run` prints the login before the processes start; the worker, beat and sandbox
logs then scroll it away. This command runs beside them (Procfile.dev) and prints it
again when the demo has its catalog, which is when it is worth logging in.
"""

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backoffice.demo import login_banner
from catalog.models import SyncRun
from catalog.selectors import sync_runs


class Command(BaseCommand):
    help = "Wait for the demo's first catalog sync to finish, print the login, then idle."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--wait", type=int, default=600, help="seconds to wait for the sync (default 600)"
        )
        parser.add_argument(
            "--exit",
            action="store_true",
            dest="exit_after",
            help="exit after printing instead of idling",
        )

    def handle(self, *args: Any, wait: int, exit_after: bool, **options: Any) -> None:
        password = getattr(settings, "DEMO_PASSWORD", "")
        if not password:
            raise CommandError(
                "demo_login only runs with the demo settings (backoffice.settings.dev)"
            )
        run = self.first_finished_run(wait=wait)
        if run is None:
            status = f"The first catalog sync has not finished after {wait} s."
        elif run.status == SyncRun.Status.SUCCEEDED:
            seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
            status = f"Catalog ready: {run.seen:,} products synced in {seconds:.0f} s."
        else:
            status = f"The first catalog sync failed ({run.error}); see Catalog > Sync runs."
        self.stdout.write(self.style.SUCCESS(f"\n  {status}" + login_banner(password=password)))
        self.stdout.flush()
        if not exit_after:
            # honcho stops every process when one exits: stay until it stops us.
            signal.pause()

    @staticmethod
    def first_finished_run(*, wait: int) -> SyncRun | None:
        deadline = time.monotonic() + wait
        while True:
            finished = (
                sync_runs()
                .filter(finished_at__isnull=False)
                .exclude(status=SyncRun.Status.SKIPPED)
                .order_by("finished_at")
                .first()
            )
            if finished is not None or time.monotonic() >= deadline:
                return finished
            time.sleep(2)
