"""Celery tasks of the back-office core: thin, each calls one service."""

from celery import shared_task

from . import upstream_problems


@shared_task(name="backoffice.tasks.quarantine_prune")
def quarantine_prune() -> int:
    return upstream_problems.quarantine_prune()
