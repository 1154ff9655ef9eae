"""Endpoints: registering, deleting and rotating the webhook endpoints Licendi posts to.

Each change is made upstream first (through backoffice.upstream) and then here, and is
audited with the actor, address and request of the audit context. Upstream failures
come back as WebhookEndpointError with a message for the page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice import crypto
from backoffice.audit import audit_record
from backoffice.context import current_audit_context
from backoffice.models import AuditEvent
from backoffice.upstream import licendi_client
from licendi import LicendiError, NotFound
from licendi import WebhookEndpoint as UpstreamEndpoint
from licendi.webhooks import check_secret

from .. import secrets
from ..models import WebhookEndpoint, WebhookEvent

T = TypeVar("T")


class WebhookEndpointError(Exception):
    """The endpoint is not in a state that allows the action, or Licendi refused it."""


def _upstream(call: Callable[[], T], *, doing: str) -> T:
    """Run one upstream call; a Licendi failure becomes a WebhookEndpointError."""
    try:
        return call()
    except LicendiError as exc:
        raise WebhookEndpointError(f"Licendi did not {doing}: {exc}") from exc


def webhook_endpoints_upstream() -> list[UpstreamEndpoint]:
    """The endpoints registered at Licendi (WebhookEndpointError when it cannot be asked)."""

    def call() -> list[UpstreamEndpoint]:
        with licendi_client() as client:
            return client.list_webhooks()

    return _upstream(call, doing="list the endpoints")


def _secrets_changed() -> None:
    secrets.clear_cache()
    transaction.on_commit(secrets.clear_cache)


def _create_upstream(*, url: str, events: Sequence[str]) -> tuple[UpstreamEndpoint, str]:
    def call() -> UpstreamEndpoint:
        with licendi_client() as client:
            return client.create_webhook(url=url, events=list(events))

    created = _upstream(call, doing="register the endpoint")
    secret = created.secret or ""
    try:
        check_secret(settings.WEBHOOK_SIGNATURE_SCHEME, secret)
    except ValueError:
        # Unusable without its secret: remove it upstream rather than leave an orphan.
        _delete_upstream(created.id)
        raise WebhookEndpointError("Licendi did not return a usable secret.") from None
    return created, secret


def _delete_upstream(upstream_id: str) -> None:
    def call() -> None:
        # Already gone upstream (NotFound) is fine: the local row can follow.
        with licendi_client() as client, contextlib.suppress(NotFound):
            client.delete_webhook(upstream_id)

    _upstream(call, doing="delete the endpoint")


def _audit_details(endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    return {"upstream_id": endpoint.upstream_id, "url": endpoint.url, **extra}


def _actor() -> Any:
    """The user acting now (audit context), for `created_by`; None for commands and beat."""
    return current_audit_context().actor()


def webhook_endpoint_register(*, url: str, events: Sequence[str]) -> tuple[WebhookEndpoint, str]:
    """Register `url` with Licendi; returns the endpoint and its secret (shown once)."""
    known = WebhookEvent.KNOWN_TYPES
    unknown = sorted(set(events) - set(known))
    if not events or unknown:
        raise WebhookEndpointError(f"Choose events among {', '.join(known)}.")
    created, secret = _create_upstream(url=url, events=events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            upstream_id=created.id,
            url=created.url or url,
            events=list(created.events or events),
            secret_encrypted=crypto.encrypt(secret),
            created_by=_actor(),
        )
        audit_record(
            action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGE,
            target=endpoint,
            summary=f"Registered webhook endpoint {endpoint.upstream_id}",
            details=_audit_details(endpoint, change="registered", events=endpoint.events),
        )
        _secrets_changed()
    return endpoint, secret


def webhook_endpoint_delete(*, endpoint_pk: int) -> WebhookEndpoint:
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
    )


def _mark_deleted(*, endpoint_pk: int, action: str, summary: str, change: str) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_pk)
        if endpoint.status == WebhookEndpoint.Status.DELETED:
            return endpoint  # a concurrent request finished it first
        endpoint.status = WebhookEndpoint.Status.DELETED
        endpoint.deleted_at = timezone.now()
        endpoint.save(update_fields=["status", "deleted_at"])
        audit_record(
            action=action,
            target=endpoint,
            summary=f"{summary} {endpoint.upstream_id}",
            details=_audit_details(endpoint, change=change),
        )
        _secrets_changed()
    return endpoint


def webhook_endpoint_delete_orphan(*, upstream_id: str) -> None:
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
        target_type=WebhookEndpoint._meta.label,
        target_id=upstream_id,
        summary=f"Deleted unknown upstream webhook endpoint {upstream_id}",
        details={"upstream_id": upstream_id, "change": "deleted_orphan"},
    )


def webhook_endpoint_rotate_start(*, endpoint_pk: int) -> tuple[WebhookEndpoint, str]:
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
            created_by=_actor(),
        )
        if old.status == WebhookEndpoint.Status.ACTIVE:
            old.status = WebhookEndpoint.Status.RETIRING
            old.replaced_by = new
            old.save(update_fields=["status", "replaced_by"])
        audit_record(
            action=AuditEvent.Action.SECRET_ROTATION,
            target=old,
            summary=f"Started secret rotation of {old.upstream_id}: new endpoint {new.upstream_id}",
            details=_audit_details(old, change="rotation_started", new_upstream_id=new.upstream_id),
        )
        _secrets_changed()
    return new, secret


def webhook_endpoint_rotate_finish(*, endpoint_pk: int) -> WebhookEndpoint:
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
    )
