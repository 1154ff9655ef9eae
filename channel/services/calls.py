"""The audit trail of API calls."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from backoffice import retention
from backoffice.context import current_audit_context

from ..models import ApiClient, ChannelCall


def call_record(
    *,
    client: ApiClient | None,
    method: str,
    path: str,
    action: str,
    status: int,
    error_code: str,
    idempotency_key: str,
    fulfilment_id: int | None,
    duration_ms: int,
) -> ChannelCall:
    """One row per call: who, what, outcome, duration. The caller passes no token, body or
    key, and the row has no field for them."""
    ctx = current_audit_context()
    return ChannelCall.objects.create(
        client=client,
        method=method[:8],
        path=path[:200],
        action=action[:32],
        status=status,
        error_code=error_code[:40],
        idempotency_key=idempotency_key[:100],
        fulfilment_id=fulfilment_id,
        duration_ms=max(0, duration_ms),
        client_ip=ctx.client_ip,
        request_id=ctx.request_id[:64],
    )


def calls_prune(*, now: datetime | None = None) -> int:
    """Delete calls older than CHANNEL_CALL_RETENTION_DAYS; returns how many."""
    return retention.prune(
        settings.CHANNEL_CALL_RETENTION_DAYS,
        lambda before: ChannelCall.objects.filter(at__lt=before),
        now=now,
    )
