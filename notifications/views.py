"""The inbox, marking notifications read, and the e-mail preferences. Every staff user
sees their own notifications only."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.http import AuthenticatedHttpRequest

from . import selectors, services
from .forms import PreferencesForm

PER_PAGE = 50


@permission_required(p.VIEW)
@require_safe
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    notifications = selectors.inbox(request.user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread_only": unread_only},
    )


@permission_required(p.VIEW)
@require_POST
def mark_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        services.notification_mark_read(user=request.user, notification_id=pk)
    except services.NotificationNotFound as exc:
        raise Http404(str(exc)) from exc
    return redirect("notifications:inbox")


@permission_required(p.VIEW)
@require_POST
def open_notification(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark read and go to the thing the notification is about."""
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
    except services.NotificationNotFound as exc:
        raise Http404(str(exc)) from exc
    # Links are paths we built; checked anyway so a stored link can never send staff away.
    if not url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("notifications:inbox")
    return redirect(notification.link)


@permission_required(p.VIEW)
@require_POST
def mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications:inbox")


@permission_required(p.VIEW)
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    kinds = selectors.kinds_for(request.user)
    current = selectors.email_preferences(request.user)
    form = PreferencesForm(
        request.POST or None,
        kinds=kinds,
        initial={kind.value: current[kind.value] for kind in kinds},
    )
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_set(
            user=request.user,
            email_by_kind={kind.value: bool(form.cleaned_data[kind.value]) for kind in kinds},
        )
        messages.success(request, "Notification preferences saved.")
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
