"""Admin pages of the sales channel: API clients, their calls, fulfilments and callbacks.

A new token or callback secret is rendered in the answer to the POST that made it, once,
with `Cache-Control: no-store`; it is never stored in clear nor put in a URL or message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.lists import ListPageView

from . import selectors, services
from .forms import ClientCreateForm, ClientSettingsForm, RevokeForm
from .models import ApiClient, CallbackDelivery, ChannelCall
from .tables import ChannelCallTable

# API clients hold buying power and credentials, like staff accounts: Admin only.
MANAGE_CHANNEL = p.MANAGE_USERS
RECENT = 20


def _client(pk: int) -> ApiClient:
    client = ApiClient.objects.filter(pk=pk).first()
    if client is None:
        raise Http404("No such API client")
    return client


def _once(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store"
    return response


@permission_required(MANAGE_CHANNEL)
def client_list(request: HttpRequest) -> HttpResponse:
    form = ClientCreateForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.client_create(
                name=form.cleaned_data["name"], created_by=request.user, **form.settings()
            )
        except services.ChannelError as exc:
            form.add_error(None, exc.message)
        else:
            form = ClientCreateForm()
    response = render(
        request,
        "channel/client_list.html",
        {"clients": selectors.clients_overview(), "form": form, "issued": issued},
        status=400 if request.method == "POST" and issued is None else 200,
    )
    return _once(response) if issued else response


def _detail(request: HttpRequest, client: ApiClient, **extra: Any) -> HttpResponse:
    context = {
        "client": client,
        "settings_form": extra.pop("settings_form", None) or ClientSettingsForm(instance=client),
        "revoke_form": RevokeForm(),
        "calls": selectors.client_calls(client)[:RECENT],
        "fulfilments": selectors.client_fulfilments(client)[:RECENT],
        "callbacks": selectors.client_callbacks(client)[:RECENT],
        **extra,
    }
    response = render(request, "channel/client_detail.html", context)
    return _once(response) if "new_token" in extra or "new_secret" in extra else response


@permission_required(MANAGE_CHANNEL)
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    if request.method != "POST":
        return _detail(request, client)
    form = ClientSettingsForm(request.POST, instance=client)
    if not form.is_valid():
        response = _detail(request, client, settings_form=form)
        response.status_code = 400
        return response
    services.client_update(client_id=client.pk, **form.settings())
    messages.success(request, f"Settings of {client} saved.")
    return redirect("channel:client_detail", pk=client.pk)


@permission_required(MANAGE_CHANNEL)
@require_POST
def client_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    try:
        token = services.client_token_rotate(client_id=client.pk)
    except services.ChannelError as exc:
        messages.error(request, exc.message)
        return redirect("channel:client_detail", pk=client.pk)
    client.refresh_from_db()
    return _detail(request, client, new_token=token)


@permission_required(MANAGE_CHANNEL)
@require_POST
def client_secret_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    secret = services.client_callback_secret_rotate(client_id=client.pk)
    client.refresh_from_db()
    return _detail(request, client, new_secret=secret)


@permission_required(MANAGE_CHANNEL)
@require_POST
def client_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the client is revoked.")
    else:
        services.client_revoke(client_id=client.pk, reason=form.cleaned_data["reason"])
        messages.success(request, f"{client} is revoked: its token no longer works.")
    return redirect("channel:client_detail", pk=client.pk)


class ClientCallListView(ListPageView):
    """Every call of one client, newest first (the one list page: capped, validated paging)."""

    table_class = ChannelCallTable
    template_name = "channel/client_calls.html"
    permission_required = (MANAGE_CHANNEL,)

    def get_queryset(self) -> QuerySet[ChannelCall]:
        return selectors.client_calls(self.client)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.client = _client(kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return super().get_context_data(client=self.client, **context)


client_calls = ClientCallListView.as_view()


@permission_required(MANAGE_CHANNEL)
@require_POST
def callback_resend(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = CallbackDelivery.objects.filter(pk=pk).first()
    if delivery is None:
        raise Http404("No such callback")
    try:
        services.callback_resend(delivery_id=delivery.pk)
    except services.ChannelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Callback {delivery.msg_id} queued again.")
    return redirect("channel:client_detail", pk=delivery.client_id)
