"""The demo's commands: users and first reads queued at start, the login printed again."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from backoffice.demo import demo_users
from catalog.models import SyncRun
from catalog.services import catalog_sync

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pw-for-tests"


@pytest.fixture
def demo_settings(settings):
    settings.DEMO_PASSWORD = PASSWORD
    return settings


def run(command: str, **options) -> str:
    out = StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def test_demo_setup_creates_every_user_and_queues_the_first_reads(
    demo_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        output = run("demo_setup")

    users = get_user_model().objects.filter(username__in=demo_users())
    assert users.count() == len(demo_users())
    assert all(user.check_password(PASSWORD) for user in users)
    assert PASSWORD in output
    assert len(queued) == 2  # the catalog sync and the wallet read, sent on commit


def test_demo_login_prints_the_login_with_the_outcome_of_the_first_sync(demo_settings, sandbox):
    catalog_sync(trigger=SyncRun.Trigger.COMMAND, user=None)

    output = run("demo_login", wait=0, exit_after=True)

    assert f"Catalog ready: {len(sandbox.catalog)} products synced" in output
    assert f"password: {PASSWORD}" in output


def test_demo_login_says_when_the_first_sync_failed(demo_settings):
    now = timezone.now()
    SyncRun.objects.create(
        started_at=now,
        finished_at=now,
        heartbeat_at=now,
        status=SyncRun.Status.FAILED,
        trigger=SyncRun.Trigger.COMMAND,
        error="upstream unreachable",
    )
    output = run("demo_login", wait=0, exit_after=True)
    assert "first catalog sync failed (upstream unreachable)" in output
    assert PASSWORD in output


def test_demo_login_still_prints_the_login_when_no_sync_finished_in_time(demo_settings):
    output = run("demo_login", wait=0, exit_after=True)
    assert "has not finished after 0 s" in output
    assert PASSWORD in output


def test_demo_commands_refuse_to_run_outside_the_demo_settings(settings):
    settings.DEMO_PASSWORD = ""
    for command in ("demo_setup", "demo_login"):
        with pytest.raises(CommandError, match="demo settings"):
            run(command)
