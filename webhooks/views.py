"""Webhook pages (endpoints, event log) and the receiver Licendi posts to."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    UnreadablePostError,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from backoffice import crypto
from backoffice import permissions as p
from backoffice.audit import client_ip
from backoffice.auth import permission_required
from backoffice.bulk import BulkOutcome, report, selected_ids
from backoffice.http import AuthenticatedHttpRequest
from backoffice.lists import ListPageView
from backoffice.tables import BaseTable

from . import receiver as receiving
from . import selectors, services
from .filters import WebhookEventFilter
from .forms import EndpointRegisterForm
from .models import WebhookEndpoint, WebhookEvent
from .payloads import masked_keys
from .tables import WebhookEventTable

logger = logging.getLogger(__name__)
T = TypeVar("T")


# ----------------------------------------------------------------- receiver


def _refusal(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@csrf_exempt  # authenticated by the Standard Webhooks signature, not by a session
@require_POST
def receiver(request: HttpRequest) -> HttpResponse:
    """Verify, store once, answer at once; processing happens in a task."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _refusal(400, "invalid Content-Length")
    if declared > limit:
        return _refusal(413, f"body larger than {limit} bytes")
    try:
        body = request.body
    except RequestDataTooBig:
        return _refusal(413, f"body larger than {limit} bytes")
    except UnreadablePostError:
        return _refusal(400, "unreadable body")
    if len(body) > limit:
        return _refusal(413, f"body larger than {limit} bytes")

    try:
        receiving.verify(request.headers, body)
        delivery = receiving.parse(request.headers, body)
    except receiving.Refused as refused:
        log = logger.warning if refused.status == 401 else logger.info
        log(
            "webhook delivery refused (%s): %s; expected %s, looked like %s; "
            "webhook-id=%.80s from %s",
            refused.status,
            refused.reason,
            settings.WEBHOOK_SIGNATURE_SCHEME,
            receiving.looked_like(request.headers),
            request.headers.get("webhook-id", ""),
            client_ip(request),
        )
        return _refusal(refused.status, refused.reason)

    _, created = services.webhook_event_record(delivery=delivery)
    return HttpResponse(_ANSWERS[created], content_type="application/json")


# The body of each acknowledgement, encoded once: the bytes JsonResponse writes for
# {"status": ...}, which it would encode per response with a new DjangoJSONEncoder.
_ANSWERS = {
    created: json.dumps({"status": "accepted" if created else "duplicate"}).encode()
    for created in (True, False)
}


# ----------------------------------------------------------------- endpoints


def _endpoint_page(
    request: HttpRequest,
    *,
    form: EndpointRegisterForm | None = None,
    new_secret: str | None = None,
    new_endpoint: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    upstream = None
    try:
        upstream = services.webhook_endpoints_upstream()
    except services.WebhookEndpointError as exc:
        messages.warning(request, f"Could not list the endpoints registered at Licendi: {exc}")
    response = render(
        request,
        "webhooks/endpoint_list.html",
        {
            "overview": selectors.webhook_endpoint_overview(upstream=upstream),
            "form": form or EndpointRegisterForm(),
            "new_secret": new_secret,
            "new_endpoint": new_endpoint,
        },
        status=status,
    )
    if new_secret:
        # The one response that carries the secret must not be kept by any cache.
        response["Cache-Control"] = "no-store"
    return response


# The secret travels from the registering POST to the next GET in the session, as a
# Fernet token, and is removed when shown: Post/Redirect/Get, so a reload neither
# registers again nor shows the secret twice.
NEW_SECRET_SESSION_KEY = "webhooks.new_secret"  # noqa: S105 - a session key name, not a secret


def _show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
    request.session[NEW_SECRET_SESSION_KEY] = {
        "endpoint": endpoint.pk,
        "token": crypto.encrypt(secret),
    }


def _pop_secret(request: HttpRequest) -> tuple[str | None, WebhookEndpoint | None]:
    stored = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    if not isinstance(stored, dict):
        return None, None
    try:
        secret = crypto.decrypt(stored["token"])
    except (KeyError, TypeError, crypto.InvalidToken):
        return None, None
    endpoint_pk = stored.get("endpoint")
    if not isinstance(endpoint_pk, int):
        return secret, None
    return secret, selectors.webhook_endpoint_find(pk=endpoint_pk)


@permission_required(p.MANAGE_WEBHOOKS)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        secret, endpoint = _pop_secret(request)
        return _endpoint_page(request, new_secret=secret, new_endpoint=endpoint)
    form = EndpointRegisterForm(request.POST)
    if not form.is_valid():
        return _endpoint_page(request, form=form, status=400)
    try:
        endpoint, secret = services.webhook_endpoint_register(
            url=form.cleaned_data["url"], events=form.cleaned_data["events"]
        )
    except services.WebhookEndpointError as exc:
        messages.error(request, str(exc))
        return _endpoint_page(request, form=form)
    messages.success(request, f"Endpoint {endpoint.upstream_id} registered.")
    _show_secret_once(request, endpoint, secret)
    return redirect("webhooks:endpoint_list")


def _endpoint_action(request: HttpRequest, action: Callable[[], T], success: str) -> T | None:
    try:
        result = action()
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such endpoint") from None
    except services.WebhookEndpointError as exc:
        messages.error(request, str(exc))
        return None
    messages.success(request, success)
    return result


@permission_required(p.MANAGE_WEBHOOKS)
@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _endpoint_action(
        request,
        lambda: services.webhook_endpoint_delete(endpoint_pk=pk),
        "Endpoint deleted at Licendi and here; its secret no longer verifies deliveries.",
    )
    return redirect("webhooks:endpoint_list")


@permission_required(p.MANAGE_WEBHOOKS)
@require_POST
def endpoint_orphan_delete(request: HttpRequest, upstream_id: str) -> HttpResponse:
    _endpoint_action(
        request,
        lambda: services.webhook_endpoint_delete_orphan(upstream_id=upstream_id),
        f"Endpoint {upstream_id} deleted at Licendi.",
    )
    return redirect("webhooks:endpoint_list")


@permission_required(p.MANAGE_WEBHOOKS)
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    result = _endpoint_action(
        request,
        lambda: services.webhook_endpoint_rotate_start(endpoint_pk=pk),
        "Rotation started: deliveries signed with either secret are accepted until you finish it.",
    )
    if result is None:
        return redirect("webhooks:endpoint_list")
    endpoint, secret = result
    _show_secret_once(request, endpoint, secret)
    return redirect("webhooks:endpoint_list")


@permission_required(p.MANAGE_WEBHOOKS)
@require_POST
def endpoint_rotate_finish(request: HttpRequest, pk: int) -> HttpResponse:
    _endpoint_action(
        request,
        lambda: services.webhook_endpoint_rotate_finish(endpoint_pk=pk),
        "Rotation finished: the old endpoint is deleted and its secret no longer verifies.",
    )
    return redirect("webhooks:endpoint_list")


# ----------------------------------------------------------------- event log


class WebhookEventListView(ListPageView):
    table_class = WebhookEventTable
    filterset_class = WebhookEventFilter
    template_name = "webhooks/event_list.html"
    permission_required = (p.MANAGE_WEBHOOKS,)
    filter_form_id = "event-filter"

    in_flight = False

    def get_queryset(self) -> QuerySet[WebhookEvent]:
        return selectors.webhook_event_list()

    def page_loaded(self, table: BaseTable) -> None:
        # The list follows events still being applied; once none on this page is, the
        # live part renders without its trigger and polling stops. The records are read,
        # not the bound rows: making bound rows moves django-tables2's even/odd counter.
        self.in_flight = any(
            record.status == WebhookEvent.Status.RECEIVED for record in table.page.object_list.data
        )

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return super().get_context_data(
            in_flight=self.in_flight, refresh_seconds=EVENT_LIST_REFRESH_SECONDS, **context
        )


# How often the event list polls while events on the page are being applied (seconds).
EVENT_LIST_REFRESH_SECONDS = 3

event_list = WebhookEventListView.as_view()


@permission_required(p.MANAGE_WEBHOOKS)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        event = selectors.webhook_event_get(pk=pk)
    except WebhookEvent.DoesNotExist:
        raise Http404("No such event") from None
    return render(
        request,
        "webhooks/event_detail.html",
        {"event": event, "keys": masked_keys(event.payload)},
    )


@permission_required(p.MANAGE_WEBHOOKS)
@require_POST
def event_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.webhook_event_exists(pk=pk):
        raise Http404("No such event")
    event = services.webhook_event_process(event_pk=pk)
    level = messages.success if event.status in WebhookEvent.DONE_STATUSES else messages.warning
    level(request, f"Event {event.event_id} is now {event.get_status_display().lower()}.")
    return HttpResponseRedirect(reverse("webhooks:event_detail", args=[pk]))


@permission_required(p.MANAGE_WEBHOOKS)
@require_POST
def events_reprocess(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Reprocess the events selected on the event log; back to the list as it was."""
    outcome = BulkOutcome(noun="event")
    ids = selected_ids(request.POST.getlist("ids"), outcome)
    if not ids and not outcome.refused:
        messages.error(request, "Select at least one event to reprocess.")
    else:
        services.webhook_events_reprocess(event_pks=ids, user=request.user, outcome=outcome)
        report(request, outcome, "reprocessed")
    return HttpResponseRedirect(_back_to_list(request.POST.get("next", "")))


def _back_to_list(query: str) -> str:
    """The event list with the filters and page it was submitted from (a query string
    only: never another path or host)."""
    url = reverse("webhooks:event_list")
    if query.startswith("?") and "\n" not in query and "\r" not in query:
        return f"{url}{query}"
    return url
