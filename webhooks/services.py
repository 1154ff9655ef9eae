"""State changes of the webhooks app: recording deliveries, applying them, endpoints.

Deliveries are at least once and out of order. Two database facts make that safe:
an event id is inserted once (ON CONFLICT DO NOTHING), and the keys an event carries
go through `orders.services.keys_deliver`, which stores each key once whatever path
(order response, webhook, polling) delivered it first.
"""

from __future__ import annotations

import contextlib
import logging
import traceback as tb
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from backoffice import crypto
from backoffice.audit import audit_record
from backoffice.models import AuditEvent
from backoffice.upstream import licendi_client
from licendi import NotFound
from licendi.webhooks import check_secret

from . import payloads, secrets
from .models import WebhookEndpoint, WebhookEvent
from .receiver import KNOWN_TYPES, Delivery

logger = logging.getLogger(__name__)

WEBHOOK_EVENT_TYPES = ("order.delivered", "key.assigned")
# A `received` event this old lost its task (broker outage, worker killed): beat retries it.
RECEIVED_GRACE = timedelta(minutes=2)


class WebhookEndpointError(Exception):
    """The endpoint is not in a state that allows the action."""


# ----------------------------------------------------------------- deliveries


def _insert_sql() -> tuple[str, list[str]]:
    columns = [
        "event_id",
        "type",
        "status",
        "upstream_order_id",
        "external_id",
        "payload",
        "key_count",
        "occurred_at",
        "received_at",
        "attempts",
        "duplicate_count",
        "keys_stored",
        "error",
        "traceback",
    ]
    quote = connection.ops.quote_name
    table = quote(WebhookEvent._meta.db_table)
    names = ", ".join(quote(WebhookEvent._meta.get_field(c).column) for c in columns)
    values = ", ".join(["%s"] * len(columns))
    # The unique index on event_id decides, even between concurrent requests: the
    # second insert waits for the first to commit, then does nothing.
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({values}) "  # noqa: S608 - names quoted, values bound
        f"ON CONFLICT ({quote('event_id')}) DO NOTHING RETURNING {quote('id')}"
    )
    return sql, columns


def webhook_event_record(*, delivery: Delivery) -> tuple[int, bool]:
    """Store a verified delivery once; returns (event pk or 0, created).

    A new event is processed by a task queued on commit. A repeated one only bumps
    its duplicate counter: status, body and result stay as they are.
    """
    received_at = timezone.now()
    row: dict[str, Any] = {
        "event_id": delivery.event_id,
        "type": delivery.type,
        "status": WebhookEvent.Status.RECEIVED,
        "upstream_order_id": delivery.upstream_order_id,
        "external_id": delivery.external_id,
        "payload": delivery.payload,
        "key_count": delivery.key_count,
        "occurred_at": delivery.occurred_at,
        "received_at": received_at,
        "attempts": 0,
        "duplicate_count": 0,
        "keys_stored": 0,
        "error": "",
        "traceback": "",
    }
    sql, columns = _insert_sql()
    params = [
        WebhookEvent._meta.get_field(name).get_db_prep_save(row[name], connection)
        for name in columns
    ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted = cursor.fetchone()
        if inserted is None:
            WebhookEvent.objects.filter(event_id=delivery.event_id).update(
                duplicate_count=F("duplicate_count") + 1, last_duplicate_at=received_at
            )
            return 0, False
        event_pk = int(inserted[0])
        transaction.on_commit(partial(_queue_processing, event_pk), robust=True)
    return event_pk, True


def _queue_processing(event_pk: int) -> None:
    from .tasks import webhook_event_process

    webhook_event_process.delay(event_pk)


def _scrub(text: str, keys: Sequence[str]) -> str:
    """An error text with any licence key of the event masked (exceptions may quote one)."""
    for key in keys:
        if key:
            text = text.replace(key, crypto.mask(key))
    return text


def webhook_event_process(*, event_pk: int) -> WebhookEvent:
    """Apply one stored event; safe to run twice and from any status.

    The event row is locked for the whole step, so concurrent runs (a task, a beat
    pass, a reprocess click) apply it once; a done event is left alone.
    """
    from orders.services import PurchaseOrderNotFound, keys_deliver

    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.status in WebhookEvent.DONE_STATUSES:
            return event
        event.attempts += 1
        fields = ["attempts", "status", "error", "traceback", "processed_at"]
        if event.type not in KNOWN_TYPES:
            event.status = WebhookEvent.Status.IGNORED
            event.error, event.traceback = "", ""
            event.processed_at = timezone.now()
            event.save(update_fields=fields)
            return event

        keys: list = []
        try:
            keys = payloads.stored_keys(event.payload)
            with transaction.atomic():
                stored = keys_deliver(
                    upstream_order_id=event.upstream_order_id,
                    external_id=event.external_id or None,
                    keys=keys,
                    source="webhook",
                )
        except PurchaseOrderNotFound:
            if event.status != WebhookEvent.Status.FOREIGN:
                event.status = WebhookEvent.Status.WAITING
            event.error = "No purchase order matches this order yet."
            event.traceback = ""
        except Exception as exc:
            clear = [key.key for key in keys]
            event.status = WebhookEvent.Status.FAILED
            event.error = _scrub(f"{type(exc).__name__}: {exc}", clear)[:2000]
            event.traceback = _scrub(tb.format_exc(), clear)
            logger.warning(
                "webhook event %s (%s) failed: %s", event.event_id, event.type, type(exc).__name__
            )
        else:
            event.status = WebhookEvent.Status.PROCESSED
            event.keys_stored = stored
            event.error, event.traceback = "", ""
            event.processed_at = timezone.now()
            event.purchase_order = _purchase_order_for(event)
            fields += ["keys_stored", "purchase_order"]
        event.save(update_fields=fields)
        return event


def _purchase_order_for(event: WebhookEvent) -> Any:
    """The PO the keys went to: matched like keys_deliver, by upstream id then external id."""
    from orders.models import PurchaseOrder

    found = None
    if event.upstream_order_id:
        found = PurchaseOrder.objects.filter(upstream_id=event.upstream_order_id).first()
    if found is None and event.external_id:
        found = PurchaseOrder.objects.filter(external_id=event.external_id).first()
    return found


def webhook_events_process_waiting(*, limit: int = 500) -> dict[str, int]:
    """Retry waiting events and lost `received` ones; mark long-waiting ones foreign."""
    now = timezone.now()
    pks = list(
        WebhookEvent.objects.filter(
            Q(status=WebhookEvent.Status.WAITING)
            | Q(status=WebhookEvent.Status.RECEIVED, received_at__lt=now - RECEIVED_GRACE)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {"tried": len(pks)}
    for pk in pks:
        status = webhook_event_process(event_pk=pk).status
        counts[status] = counts.get(status, 0) + 1
    hours = settings.WEBHOOK_FOREIGN_AFTER_HOURS
    counts["marked_foreign"] = WebhookEvent.objects.filter(
        status=WebhookEvent.Status.WAITING, received_at__lt=now - timedelta(hours=hours)
    ).update(status=WebhookEvent.Status.FOREIGN)
    return counts


def webhook_events_queue_for_order(*, upstream_id: str | None, external_id: str | None) -> int:
    """Queue (on commit) the events that wait for this order; returns how many."""
    match = Q()
    if upstream_id:
        match |= Q(upstream_order_id=upstream_id)
    if external_id:
        match |= Q(external_id=external_id)
    if not match:
        return 0
    pks = list(
        WebhookEvent.objects.filter(match, status__in=WebhookEvent.WAITING_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        transaction.on_commit(partial(_queue_processing, pk), robust=True)
    return len(pks)


# ----------------------------------------------------------------- endpoints


def _secrets_changed() -> None:
    secrets.clear_cache()
    transaction.on_commit(secrets.clear_cache)


def _create_upstream(*, url: str, events: Sequence[str]) -> tuple[Any, str]:
    with licendi_client() as client:
        created = client.create_webhook(url=url, events=list(events))
    secret = created.secret or ""
    try:
        check_secret(settings.WEBHOOK_SIGNATURE_SCHEME, secret)
    except ValueError:
        # Unusable without its secret: remove it upstream rather than leave an orphan.
        _delete_upstream(created.id)
        raise WebhookEndpointError("Licendi did not return a usable secret.") from None
    return created, secret


def _delete_upstream(upstream_id: str) -> None:
    # Already gone upstream (NotFound) is fine: the local row can follow.
    with licendi_client() as client, contextlib.suppress(NotFound):
        client.delete_webhook(upstream_id)


def _audit_details(endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    return {"upstream_id": endpoint.upstream_id, "url": endpoint.url, **extra}


def webhook_endpoint_register(
    *,
    url: str,
    events: Sequence[str],
    actor: Any = None,
    request: HttpRequest | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register `url` with Licendi; returns the endpoint and its secret (shown once)."""
    unknown = sorted(set(events) - set(WEBHOOK_EVENT_TYPES))
    if not events or unknown:
        raise WebhookEndpointError(f"Choose events among {', '.join(WEBHOOK_EVENT_TYPES)}.")
    created, secret = _create_upstream(url=url, events=events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            upstream_id=created.id,
            url=created.url or url,
            events=list(created.events or events),
            secret_encrypted=crypto.encrypt(secret),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGE,
            actor=actor,
            request=request,
            target=endpoint,
            summary=f"Registered webhook endpoint {endpoint.upstream_id}",
            details=_audit_details(endpoint, change="registered", events=endpoint.events),
        )
        _secrets_changed()
    return endpoint, secret


def webhook_endpoint_delete(
    *, endpoint_pk: int, actor: Any = None, request: HttpRequest | None = None
) -> WebhookEndpoint:
    """Delete the endpoint upstream, then mark it deleted here (its secret stops verifying)."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_pk)
    if endpoint.status == WebhookEndpoint.Status.DELETED:
        raise WebhookEndpointError("This endpoint is already deleted.")
    _delete_upstream(endpoint.upstream_id)
    return _mark_deleted(
        endpoint_pk=endpoint_pk,
        action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGE,
        summary="Deleted webhook endpoint",
        change="deleted",
        actor=actor,
        request=request,
    )


def _mark_deleted(
    *,
    endpoint_pk: int,
    action: str,
    summary: str,
    change: str,
    actor: Any,
    request: HttpRequest | None,
) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_pk)
        if endpoint.status == WebhookEndpoint.Status.DELETED:
            return endpoint  # a concurrent request finished it first
        endpoint.status = WebhookEndpoint.Status.DELETED
        endpoint.deleted_at = timezone.now()
        endpoint.save(update_fields=["status", "deleted_at"])
        audit_record(
            action=action,
            actor=actor,
            request=request,
            target=endpoint,
            summary=f"{summary} {endpoint.upstream_id}",
            details=_audit_details(endpoint, change=change),
        )
        _secrets_changed()
    return endpoint


def webhook_endpoint_delete_orphan(
    *, upstream_id: str, actor: Any = None, request: HttpRequest | None = None
) -> None:
    """Delete an endpoint that exists upstream but was never stored here."""
    if (
        WebhookEndpoint.objects.filter(upstream_id=upstream_id)
        .exclude(status=WebhookEndpoint.Status.DELETED)
        .exists()
    ):
        raise WebhookEndpointError("This endpoint is registered here: delete it from its row.")
    _delete_upstream(upstream_id)
    audit_record(
        action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGE,
        actor=actor,
        request=request,
        target_type=WebhookEndpoint._meta.label,
        target_id=upstream_id,
        summary=f"Deleted unknown upstream webhook endpoint {upstream_id}",
        details={"upstream_id": upstream_id, "change": "deleted_orphan"},
    )


def webhook_endpoint_rotate_start(
    *, endpoint_pk: int, actor: Any = None, request: HttpRequest | None = None
) -> tuple[WebhookEndpoint, str]:
    """Register a replacement endpoint; both secrets verify until the rotation finishes."""
    old = WebhookEndpoint.objects.get(pk=endpoint_pk)
    if old.status != WebhookEndpoint.Status.ACTIVE:
        raise WebhookEndpointError("Only an active endpoint can be rotated.")
    created, secret = _create_upstream(url=old.url, events=old.events)
    with transaction.atomic():
        old = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_pk)
        new = WebhookEndpoint.objects.create(
            upstream_id=created.id,
            url=created.url or old.url,
            events=list(created.events or old.events),
            secret_encrypted=crypto.encrypt(secret),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if old.status == WebhookEndpoint.Status.ACTIVE:
            old.status = WebhookEndpoint.Status.RETIRING
            old.replaced_by = new
            old.save(update_fields=["status", "replaced_by"])
        audit_record(
            action=AuditEvent.Action.SECRET_ROTATION,
            actor=actor,
            request=request,
            target=old,
            summary=f"Started secret rotation of {old.upstream_id}: new endpoint {new.upstream_id}",
            details=_audit_details(old, change="rotation_started", new_upstream_id=new.upstream_id),
        )
        _secrets_changed()
    return new, secret


def webhook_endpoint_rotate_finish(
    *, endpoint_pk: int, actor: Any = None, request: HttpRequest | None = None
) -> WebhookEndpoint:
    """Delete the retiring endpoint: from now on only its replacement's secret verifies."""
    old = WebhookEndpoint.objects.get(pk=endpoint_pk)
    if old.status != WebhookEndpoint.Status.RETIRING:
        raise WebhookEndpointError("This endpoint is not being rotated.")
    _delete_upstream(old.upstream_id)
    return _mark_deleted(
        endpoint_pk=endpoint_pk,
        action=AuditEvent.Action.SECRET_ROTATION,
        summary="Finished secret rotation: deleted",
        change="rotation_finished",
        actor=actor,
        request=request,
    )
