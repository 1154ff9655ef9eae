"""`/healthz`: 200 when the database and broker answer, 503 otherwise, sync ages, no secrets."""

import json
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://:broker-pass-s3cret@127.0.0.1:1/0"  # nothing listens on port 1


def test_healthy_without_login_and_reports_each_part():
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert "catalog_sync_age_seconds" in body
    assert "wallet_sync_age_seconds" in body


def test_no_sync_yet_reports_null_ages():
    body = Client().get(reverse("healthz")).json()
    assert body["catalog_sync_age_seconds"] is None
    assert body["wallet_sync_age_seconds"] is None


def test_reports_the_age_of_the_last_successful_catalog_sync():
    sync_run = pytest.importorskip("catalog.models").SyncRun
    now = timezone.now()
    for status, minutes_ago in (("succeeded", 60), ("failed", 5)):
        sync_run.objects.create(
            started_at=now - timedelta(minutes=minutes_ago + 1),
            finished_at=now - timedelta(minutes=minutes_ago),
            heartbeat_at=now - timedelta(minutes=minutes_ago),
            status=status,
            trigger="beat",
        )

    age = Client().get(reverse("healthz")).json()["catalog_sync_age_seconds"]

    assert 3590 <= age <= 3700  # the failed, more recent run does not count


def test_reports_the_age_of_the_last_successful_wallet_sync():
    sync_status = pytest.importorskip("wallet.models").SyncStatus
    sync_status.objects.update_or_create(
        pk=1, defaults={"last_success_at": timezone.now() - timedelta(minutes=10)}
    )
    age = Client().get(reverse("healthz")).json()["wallet_sync_age_seconds"]
    assert 590 <= age <= 700


def test_an_unreachable_broker_is_a_503_that_leaks_no_url_or_password(settings, caplog):
    settings.CELERY_BROKER_URL = DEAD_BROKER

    response = Client().get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body == body | {"status": "error", "broker": "error", "database": "ok"}
    raw = response.content.decode()
    assert "s3cret" not in raw and "127.0.0.1" not in raw
    assert "s3cret" not in caplog.text


def test_a_database_failure_is_a_503(monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("could not connect to server: db.internal password=hunter2")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = Client().get(reverse("healthz"))

    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "error"
    assert "hunter2" not in response.content.decode()
    assert "db.internal" not in response.content.decode()


def test_only_get(client):
    assert Client().post(reverse("healthz")).status_code == 405
