"""Queueing background work: the one way a service starts a Celery task.

Services name the task they want (`enqueue("orders.purchase_order_submit",
purchase_order_id=po.pk)`) instead of importing a `tasks` module, so services never import
tasks (tasks import services, never the other way round), and the task is sent only once
the surrounding transaction commits, so the worker never looks for a row that is not
there yet. The audit context (user, client address, request id) travels with the task.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from .context import current_audit_context

logger = logging.getLogger(__name__)


def enqueue(task_name: str, /, *, countdown: float | None = None, **kwargs: Any) -> None:
    """Send task `task_name` with keyword arguments `kwargs` when the transaction commits.

    `robust`: a broker hiccup must not turn a committed change into an error page; the
    periodic sweeps (beat) pick up whatever was committed but never queued.
    """
    headers = current_audit_context().to_headers()

    def send() -> None:
        from .celery import app

        # Looked up by name in the registry the worker and web process share, so the
        # caller never imports the tasks module. Autodiscovery is lazy: a process that has
        # imported no tasks module yet (a web process whose views import none, a
        # management command) registers them on its first send.
        if task_name not in app.tasks:
            app.loader.import_default_modules()
        options: dict[str, Any] = {"headers": headers}
        if countdown is not None:
            options["countdown"] = countdown
        app.tasks[task_name].apply_async(kwargs=kwargs, **options)

    transaction.on_commit(send, robust=True)
