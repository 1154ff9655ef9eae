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
        from celery.exceptions import NotRegistered

        from .celery import app

        # Looked up by name in the registry the worker and web process share, so the
        # caller never imports the tasks module. Autodiscovery runs when a worker starts;
        # a web process runs it on its first lookup of a task it has not seen.
        try:
            task = app.tasks[task_name]
        except NotRegistered:
            app.loader.import_default_modules()
            task = app.tasks[task_name]
        task.apply_async(kwargs=kwargs, countdown=countdown, headers=headers)

    transaction.on_commit(send, robust=True)
