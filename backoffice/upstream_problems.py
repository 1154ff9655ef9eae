"""Keeping what the Licendi client noticed: quarantined records and shape drift.

The client reports plain data (`licendi.Rejected`, `licendi.ShapeNote`); these services
store it for the "Upstream problems" page, `/healthz` and the home page. Recording a
problem never fails the caller's work: a database hiccup here is logged and dropped,
the next run reports the shape again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from licendi import Rejected, ShapeNote

from . import retention
from .upstream_models import DriftObservation, QuarantinedRecord

logger = logging.getLogger(__name__)

# Records kept per report: enough to see every kind of problem. A wholesale change
# upstream (every record unreadable, every hour) must not fill the database.
QUARANTINE_STORE_MAX = 200


def drift_record(*, notes: Iterable[ShapeNote]) -> int:
    """Add `notes` to the drift counters; returns how many shapes were new."""
    notes = list(notes)
    if not notes:
        return 0
    now = timezone.now()
    keys = {(n.endpoint[:100], n.kind, n.field[:200], n.detail[:200]) for n in notes}
    try:
        with transaction.atomic():
            known = set(
                DriftObservation.objects.filter(
                    endpoint__in={k[0] for k in keys}, field__in={k[2] for k in keys}
                ).values_list("endpoint", "kind", "field", "detail")
            )
            # The first sighting creates the row (and keeps its example); every sighting
            # adds its count. Two processes recording at once both count: the INSERT
            # ignores the loser's conflict and the UPDATE adds in the database.
            DriftObservation.objects.bulk_create(
                [
                    DriftObservation(
                        endpoint=n.endpoint[:100],
                        kind=n.kind,
                        field=n.field[:200],
                        detail=n.detail[:200],
                        count=0,
                        example=_json_safe(n.example),
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                    for n in notes
                ],
                ignore_conflicts=True,
            )
            for n in sorted(notes, key=lambda n: (n.endpoint, n.kind, n.field, n.detail)):
                DriftObservation.objects.filter(
                    endpoint=n.endpoint[:100],
                    kind=n.kind,
                    field=n.field[:200],
                    detail=n.detail[:200],
                ).update(count=F("count") + n.count, last_seen_at=now)
    except DatabaseError:
        logger.exception("upstream drift: %s observations could not be recorded", len(notes))
        return 0
    new = sorted(keys - known)
    if new:
        logger.warning(
            "upstream drift: new shapes seen: %s",
            "; ".join(" ".join(part for part in key if part) for key in new),
        )
    return len(new)


def quarantine_record(
    *, source: str, endpoint: str, rejected: Sequence[Rejected], run_ref: str = ""
) -> int:
    """Store records that could not be read, each with its reason (the first
    QUARANTINE_STORE_MAX of them); returns how many were stored."""
    if not rejected:
        return 0
    if len(rejected) > QUARANTINE_STORE_MAX:
        logger.warning(
            "upstream records quarantined: %s %s: %s records, the first %s stored",
            source,
            endpoint,
            len(rejected),
            QUARANTINE_STORE_MAX,
        )
        rejected = rejected[:QUARANTINE_STORE_MAX]
    QuarantinedRecord.objects.bulk_create(
        [
            QuarantinedRecord(
                source=source[:40],
                run_ref=run_ref[:60],
                endpoint=endpoint[:100],
                ref=record.ref[:200],
                field=(record.field or "")[:200],
                reason=record.reason,
                raw=_json_safe(record.raw),
            )
            for record in rejected
        ]
    )
    for record in rejected:
        logger.warning(
            "upstream record quarantined: %s %s (%s): %s",
            source,
            endpoint,
            record.ref,
            record.reason,
        )
    return len(rejected)


def quarantine_prune(*, now: datetime | None = None) -> int:
    """Delete quarantined records older than QUARANTINE_RETENTION_DAYS; returns how many."""
    return retention.prune(
        settings.QUARANTINE_RETENTION_DAYS,
        lambda before: QuarantinedRecord.objects.filter(created_at__lt=before),
        now=now,
    )


def drift_acknowledge(*, ids: Sequence[int] | None = None) -> int:
    """Mark drift rows as looked at (all unacknowledged ones when `ids` is None)."""
    rows = DriftObservation.objects.filter(acknowledged_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(acknowledged_at=timezone.now())


def _json_safe(value: Any) -> Any:
    """JSON for a JSONField. The client decodes numbers as Decimal; they stay numbers
    here (an example shows the shape that was sent, a number, not a string)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
