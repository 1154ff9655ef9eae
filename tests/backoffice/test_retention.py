"""Logs kept for their retention, then pruned in batches; nothing else is touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice import retention
from backoffice.upstream_models import QuarantinedRecord
from backoffice.upstream_problems import quarantine_prune
from channel.models import ChannelCall
from channel.services import calls_prune

pytestmark = pytest.mark.django_db


def _quarantined(ref: str, age: timedelta) -> QuarantinedRecord:
    record = QuarantinedRecord.objects.create(
        source="catalog", endpoint="GET /api/products", ref=ref, reason="x", raw={}
    )
    # created_at is auto_now_add: set the age afterwards, as time would have.
    QuarantinedRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def _call(age: timedelta) -> ChannelCall:
    call = ChannelCall.objects.create(
        client=None, method="GET", path="/channel/api/offers", status=200, duration_ms=3
    )
    ChannelCall.objects.filter(pk=call.pk).update(at=timezone.now() - age)
    return call


def test_quarantined_records_older_than_their_retention_are_pruned(settings):
    settings.QUARANTINE_RETENTION_DAYS = 90
    old = [_quarantined(f"old-{n}", timedelta(days=91)) for n in range(3)]
    kept = _quarantined("recent", timedelta(days=89))

    assert quarantine_prune() == 3

    assert list(QuarantinedRecord.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not QuarantinedRecord.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert quarantine_prune() == 0


def test_a_retention_of_zero_keeps_every_record(settings):
    settings.QUARANTINE_RETENTION_DAYS = 0
    settings.CHANNEL_CALL_RETENTION_DAYS = 0
    _quarantined("ancient", timedelta(days=3650))
    _call(timedelta(days=3650))

    assert quarantine_prune() == 0
    assert calls_prune() == 0
    assert QuarantinedRecord.objects.count() == ChannelCall.objects.count() == 1


def test_channel_calls_older_than_their_retention_are_pruned(settings):
    settings.CHANNEL_CALL_RETENTION_DAYS = 365
    _call(timedelta(days=366))
    _call(timedelta(days=400))
    recent = _call(timedelta(days=364))

    assert calls_prune() == 2

    assert list(ChannelCall.objects.values_list("pk", flat=True)) == [recent.pk]


def test_rows_are_deleted_a_batch_at_a_time_until_none_is_left(
    django_assert_num_queries,
):
    for n in range(5):
        _quarantined(f"r{n}", timedelta(days=200))
    rows = QuarantinedRecord.objects.filter(created_at__lt=timezone.now() - timedelta(days=1))

    # Three batches of at most 2 (a SELECT of ids and a DELETE each), then an empty SELECT.
    with django_assert_num_queries(7):
        assert retention.delete_in_batches(rows, batch=2) == 5

    assert not QuarantinedRecord.objects.exists()


def test_cutoff_is_that_many_days_before_now():
    now = timezone.now()
    assert retention.cutoff(90, now=now) == now - timedelta(days=90)
    assert retention.cutoff(0, now=now) is None
    assert retention.cutoff(-1, now=now) is None


@pytest.mark.parametrize(
    ("entry", "task"),
    [
        ("upstream-quarantine-prune", "backoffice.tasks.quarantine_prune"),
        ("channel-calls-prune", "channel.tasks.calls_prune"),
    ],
)
def test_pruning_runs_daily_from_the_beat_schedule(settings, entry, task):
    from backoffice.celery import app

    assert settings.CELERY_BEAT_SCHEDULE[entry] == {"task": task, "schedule": 24 * 60 * 60}
    app.loader.import_default_modules()  # the tasks modules, as a worker imports them
    assert task in app.tasks
