"""The audit context: set per request, carried to the tasks a service queues."""

import pytest
from celery import shared_task
from django.http import HttpResponse
from django.test import RequestFactory

from backoffice.audit import audit_record
from backoffice.context import AuditContextMiddleware, audit_context, current_audit_context
from backoffice.jobs import enqueue
from backoffice.models import AuditEvent

seen: list[tuple] = []


@shared_task(name="tests.backoffice.record_context")
def record_context(*, label: str) -> None:
    ctx = current_audit_context()
    actor = ctx.actor()
    seen.append((label, actor.pk if actor else None, ctx.client_ip, ctx.request_id))
    audit_record(action="test.task", summary=label)


@pytest.mark.django_db
def test_audit_row_written_in_a_request_records_user_and_address(user_in_role):
    user = user_in_role("Viewer")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.user = user

    def view(req):
        audit_record(action="test.view", summary="from a view")
        return HttpResponse()

    AuditContextMiddleware(view)(request)
    event = AuditEvent.objects.get(action="test.view")
    assert event.actor == user
    assert event.ip_address == "203.0.113.9"
    # and nothing leaks out of the request
    assert current_audit_context().actor() is None


@pytest.mark.django_db
def test_enqueued_task_runs_after_commit_with_the_callers_context(
    user_in_role, django_capture_on_commit_callbacks
):
    user = user_in_role("Buyer")
    seen.clear()
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        audit_context(user=user, client_ip="198.51.100.7", request_id="req-12345678"),
    ):
        enqueue("tests.backoffice.record_context", label="queued")
    assert seen == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert seen == [("queued", user.pk, "198.51.100.7", "req-12345678")]
    event = AuditEvent.objects.get(action="test.task")
    assert event.actor == user
    assert event.ip_address == "198.51.100.7"
    # the worker's context is cleared after the task
    assert current_audit_context().actor() is None


def test_a_process_that_imported_no_tasks_module_still_sends_by_name():
    # A fresh interpreter where nothing has imported catalog.tasks, like a web process
    # whose views import no tasks module, or a management command. The commit hook runs
    # the send at once, without robust=True hiding an error.
    import os
    import subprocess
    import sys

    script = (
        "import sys, django; django.setup()\n"
        "from unittest import mock\n"
        "from celery.app.task import Task\n"
        "from backoffice import jobs\n"
        "assert 'catalog.tasks' not in sys.modules\n"
        "with mock.patch.object(Task, 'apply_async') as sent, mock.patch.object(\n"
        "    jobs.transaction, 'on_commit', lambda send, robust: send()\n"
        "):\n"
        "    jobs.enqueue('catalog.tasks.catalog_sync', trigger='command')\n"
        "print(sent.call_args.kwargs['kwargs'])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'trigger': 'command'}"
