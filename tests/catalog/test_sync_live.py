"""The sync page follows "Sync now" live: queued, running with progress, then how it
ended; it polls only while a sync is queued or running."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import SyncRun

pytestmark = pytest.mark.django_db

TRIGGER = 'hx-trigger="every 2s'


def _run(**fields: object) -> SyncRun:
    now = timezone.now()
    values: dict[str, object] = {
        "started_at": now,
        "heartbeat_at": now,
        "trigger": SyncRun.Trigger.MANUAL,
    }
    values.update(fields)
    return SyncRun.objects.create(**values)


def test_sync_now_lands_on_a_page_that_shows_the_queued_run_at_once(
    client_for, django_capture_on_commit_callbacks
):
    earlier = _run(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
    client = client_for("Buyer")
    # The task is captured, not run: as if no worker had picked it up yet.
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("catalog:sync_now"), follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(
        f"{reverse('catalog:sync_runs')}?after={earlier.pk}&at="
    )
    assert 'id="sync-queued"' in page and TRIGGER in page


def test_the_queued_part_turns_into_the_run_once_a_worker_starts_it(client_for):
    client = client_for("Viewer")
    url = reverse("catalog:sync_live")
    at = int(timezone.now().timestamp())
    queued = client.get(url, {"after": 0, "at": at}).content.decode()
    assert 'id="sync-queued"' in queued and TRIGGER in queued

    run = _run(phase=SyncRun.Phase.LISTING, progress_done=3, progress_total=9)
    running = client.get(url, {"after": 0, "at": at}).content.decode()
    assert f'data-run="{run.pk}"' in running and "3 / 9" in running and TRIGGER in running

    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error="LicendiError: 503 from upstream <script>",
    )
    ended = client.get(url, {"after": 0, "at": at}).content.decode()
    assert 'data-status="failed"' in ended and "hx-trigger" not in ended
    # The cause is shown on the run, escaped.
    assert "LicendiError: 503 from upstream &lt;script&gt;" in ended


def test_a_sync_no_worker_starts_stops_polling_and_says_why(client_for):
    long_ago = timezone.now() - timedelta(minutes=6)
    part = (
        client_for("Viewer")
        .get(reverse("catalog:sync_live"), {"after": 0, "at": int(long_ago.timestamp())})
        .content.decode()
    )
    assert 'id="sync-stalled"' in part and "hx-trigger" not in part
    assert "worker" in part


def test_with_nothing_running_or_queued_the_live_part_does_not_poll(client_for):
    _run(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
    client = client_for("Viewer")
    assert "hx-trigger" not in client.get(reverse("catalog:sync_live")).content.decode()
    page = client.get(reverse("catalog:sync_runs")).content.decode()
    assert 'id="sync-live"' in page and 'data-polling="false"' in page


@pytest.mark.parametrize(
    "query",
    [
        {"after": "-1", "at": "x"},
        {"after": "١٢", "at": "1"},  # non-ASCII digits
        {"after": "9" * 40},
        {"after": "0' OR 1=1"},
    ],
)
def test_hostile_query_values_are_ignored_not_a_500(client_for, query):
    response = client_for("Viewer").get(reverse("catalog:sync_live"), query)
    assert response.status_code == 200
    assert "hx-trigger" not in response.content.decode()
