"""The Celery application shared by the worker, beat and the web process (to queue tasks)."""

import contextlib
import os
from typing import Any

from celery import Celery, Task
from celery.signals import setup_logging, task_postrun, task_prerun
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.dev")


class ReliableTask(Task[Any, Any]):
    """Every task retries when the database was briefly unreachable (a failover, a
    restart, a dropped connection): the task is idempotent and would otherwise be
    dropped. Tasks that retry on other errors handle those themselves."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 5
    retry_backoff_max = 40  # below the broker's visibility timeout (settings)
    retry_jitter = True
    max_retries = 8


app = Celery("backoffice", task_cls=ReliableTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs: Any) -> None:
    """Keep Django's LOGGING (JSON lines, redaction, request/task id) in the worker and
    beat instead of Celery's own plain-text handlers."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


# The audit context queued with a task (backoffice.jobs.enqueue) is set around its run,
# so a service finishing the work in the worker records who started it.
_audit_tokens: dict[str, Any] = {}


@task_prerun.connect
def set_task_audit_context(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    from .context import HEADER, AuditContext, set_audit_context

    request = getattr(task, "request", None)
    value = getattr(request, HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(HEADER)
    _audit_tokens[task_id or ""] = set_audit_context(AuditContext.from_headers(value))


@task_postrun.connect
def reset_task_audit_context(task_id: str | None = None, **kwargs: Any) -> None:
    from .context import reset_audit_context

    token = _audit_tokens.pop(task_id or "", None)
    if token is not None:
        # ValueError: set in another context (an eager task run inside a request)
        with contextlib.suppress(ValueError):
            reset_audit_context(token)
