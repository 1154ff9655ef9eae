"""Drift counters and quarantined records: stored, shown, announced, never leaking keys."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from backoffice.models import DriftObservation, QuarantinedRecord
from backoffice.upstream_problems import drift_acknowledge, drift_record, quarantine_record
from licendi import Observations, Rejected, ShapeNote, parsing

pytestmark = pytest.mark.django_db

PAGE = reverse("backoffice:upstream_problems")


def note(field: str = "items[].inStock", count: int = 1, example: object = 1) -> ShapeNote:
    return ShapeNote(
        endpoint="GET /api/products",
        kind="coercion",
        field=field,
        detail="number -> boolean",
        count=count,
        example=example,
    )


def test_the_first_sighting_is_new_and_later_ones_only_count():
    assert drift_record(notes=[note(count=3)]) == 1
    first = DriftObservation.objects.get()
    assert (first.count, first.example) == (3, 1)

    assert drift_record(notes=[note(count=2, example=0)]) == 0
    again = DriftObservation.objects.get()
    assert again.count == 5
    assert again.example == 1  # the first example is kept
    assert again.first_seen_at == first.first_seen_at <= again.last_seen_at


@pytest.mark.django_db(transaction=True)
def test_two_processes_recording_the_same_shape_at_once_both_count():
    barrier = threading.Barrier(2)

    def record() -> None:
        try:
            barrier.wait()
            drift_record(notes=[note(count=10)])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert DriftObservation.objects.get().count == 20


def test_examples_and_quarantined_records_never_hold_a_licence_key():
    seen = Observations()
    with parsing.observing(seen, "POST /api/orders"):
        parsing.coerce_key({"key": "SECRET-KEY-12345", "sku": "1"}, "items[0].keys[0]")
    _, rejected = parsing.read_each(
        [{"id": "o1", "total": "x", "items": [{"keys": ["SECRET-KEY-67890"]}]}],
        "items",
        parsing.parse_order,
    )
    drift_record(notes=seen.notes())
    quarantine_record(source="orders.import", endpoint="GET /api/orders", rejected=rejected)

    stored = json.dumps(
        [list(DriftObservation.objects.values()), list(QuarantinedRecord.objects.values())],
        default=str,
    )
    assert "SECRET-KEY" not in stored
    assert "[redacted]" in stored


def test_page_lists_drift_and_quarantine_filtered_by_run(client_for):
    drift_record(notes=[note()])
    quarantine_record(
        source="catalog.sync",
        endpoint="GET /api/products",
        rejected=[Rejected(ref="10491", reason="price is not a decimal", field=None, raw={})],
        run_ref="catalog.SyncRun:7",
    )
    quarantine_record(
        source="catalog.sync",
        endpoint="GET /api/products",
        rejected=[Rejected(ref="20000", reason="missing field sku", field=None, raw={})],
        run_ref="catalog.SyncRun:8",
    )

    page = client_for("Viewer").get(PAGE, {"run": "catalog.SyncRun:7"}).content.decode()

    assert "items[].inStock" in page and "number -&gt; boolean" in page
    assert "10491" in page and "20000" not in page
    assert 'id="new-shapes"' in page
    assert "Mark all as looked at" not in page  # a Viewer may not acknowledge


def test_hostile_upstream_text_is_escaped_on_the_page(client_for):
    hostile = '<script>alert("x")</script>'
    drift_record(notes=[note(field=f"items[].{hostile}", example=hostile)])
    quarantine_record(
        source="catalog.sync",
        endpoint="GET /api/products",
        rejected=[Rejected(ref=hostile, reason=hostile, field=None, raw={"name": hostile})],
    )

    page = client_for("Viewer").get(PAGE).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_acknowledging_ends_the_new_shape_notice_on_home_and_healthz(client_for):
    drift_record(notes=[note()])
    home = client_for("Viewer").get(reverse("home")).content.decode()
    assert 'id="upstream-new-shapes"' in home
    health = json.loads(Client().get(reverse("healthz")).content)
    assert health["upstream_new_shapes"]["count"] == 1
    assert health["upstream_new_shapes"]["since"]

    response = client_for("Buyer").post(reverse("backoffice:drift_acknowledge"))

    assert response.status_code == 302
    assert DriftObservation.objects.get().acknowledged_at is not None
    home = client_for("Viewer").get(reverse("home")).content.decode()
    assert 'id="upstream-new-shapes"' not in home
    health = json.loads(Client().get(reverse("healthz")).content)
    assert health["upstream_new_shapes"] == {"count": 0, "since": None}


def test_a_shape_seen_again_after_acknowledgement_is_not_new_again():
    drift_record(notes=[note()])
    drift_acknowledge()
    assert drift_record(notes=[note()]) == 0
    assert DriftObservation.objects.filter(acknowledged_at__isnull=True).count() == 0


def test_a_wholesale_change_stores_a_bounded_number_of_records():
    from backoffice.upstream_problems import QUARANTINE_STORE_MAX

    rejected = [
        Rejected(ref=str(n), reason="missing field items[].sku", field=None, raw={"n": n})
        for n in range(QUARANTINE_STORE_MAX * 3)
    ]

    stored = quarantine_record(
        source="catalog.sync", endpoint="GET /api/products", rejected=rejected
    )

    assert stored == QUARANTINE_STORE_MAX == QuarantinedRecord.objects.count()
