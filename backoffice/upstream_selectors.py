"""Read queries for the "Upstream problems" page, the home page notice and /healthz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, QuerySet

from .upstream_models import DriftObservation, QuarantinedRecord


def drift_observations() -> QuerySet[DriftObservation]:
    """Unacknowledged (new) shapes first, then the most recently seen."""
    return DriftObservation.objects.order_by(
        "-acknowledged_at", "-last_seen_at", "endpoint", "field", "kind", "detail"
    )


def quarantined_records(*, run_ref: str = "") -> QuerySet[QuarantinedRecord]:
    records = QuarantinedRecord.objects.all()
    if run_ref:
        records = records.filter(run_ref=run_ref)
    return records.order_by("-created_at", "-id")


@dataclass(frozen=True, slots=True)
class NewShapes:
    """Shapes seen upstream that nobody has looked at yet."""

    count: int
    since: datetime | None  # when the oldest of them was first seen


def new_shapes() -> NewShapes:
    figures = DriftObservation.objects.filter(acknowledged_at__isnull=True).aggregate(
        since=Min("first_seen_at")
    )
    count = DriftObservation.objects.filter(acknowledged_at__isnull=True).count()
    return NewShapes(count=count, since=figures["since"])
