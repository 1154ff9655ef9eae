"""Read queries of the webhooks pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from licendi import WebhookEndpoint as UpstreamEndpoint

from .models import WebhookEndpoint, WebhookEvent


def webhook_event_list() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.select_related("purchase_order").defer("payload", "traceback")


def webhook_event_get(*, pk: int) -> WebhookEvent:
    return WebhookEvent.objects.select_related("purchase_order").get(pk=pk)


def webhook_event_exists(*, pk: int) -> bool:
    return WebhookEvent.objects.filter(pk=pk).exists()


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("replaced_by", "created_by").defer(
        "secret_encrypted"
    )


def webhook_endpoint_find(*, pk: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(pk=pk).first()


@dataclass(frozen=True)
class EndpointOverview:
    local: list[WebhookEndpoint]
    upstream_ids: frozenset[str] | None  # None when upstream could not be asked
    orphans: list[UpstreamEndpoint]  # upstream endpoints with no local row


def webhook_endpoint_overview(*, upstream: list[UpstreamEndpoint] | None) -> EndpointOverview:
    local = list(webhook_endpoint_list())
    if upstream is None:
        return EndpointOverview(local=local, upstream_ids=None, orphans=[])
    known = {endpoint.upstream_id for endpoint in local}
    return EndpointOverview(
        local=local,
        upstream_ids=frozenset(endpoint.id for endpoint in upstream),
        orphans=[endpoint for endpoint in upstream if endpoint.id not in known],
    )
