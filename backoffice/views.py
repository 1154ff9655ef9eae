"""Project-level pages: the audit log and staff user management (home: dashboard app)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import permissions as p
from . import selectors, services
from .auth import permission_required
from .filters import AuditEventFilter
from .forms import StaffUserCreateForm, StaffUserForm
from .http import AuthenticatedHttpRequest
from .lists import ListPageView
from .login_throttle import failure_limit
from .models import AuditEvent, LoginThrottle
from .page_tables import AuditEventTable, StaffUserTable


class AuditEventListView(ListPageView):
    table_class = AuditEventTable
    filterset_class = AuditEventFilter
    template_name = "backoffice/audit_list.html"
    permission_required = (p.VIEW_AUDIT,)
    filter_form_id = "audit-filter"

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return selectors.audit_event_list()

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return super().get_context_data(target_types=selectors.audit_target_types(), **context)


audit_list = AuditEventListView.as_view()


class StaffUserListView(ListPageView):
    table_class = StaffUserTable
    template_name = "backoffice/user_list.html"
    permission_required = (p.MANAGE_USERS,)

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.staff_user_list()


user_list = StaffUserListView.as_view()


@permission_required(p.MANAGE_USERS)
def user_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffUserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                roles=data["roles"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except services.StaffUserError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"User {user.get_username()} created.")
            return redirect("backoffice:user_list")
    return render(request, "backoffice/user_form.html", {"form": form, "creating": True})


@permission_required(p.MANAGE_USERS)
def user_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    initial = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": list(user.groups.values_list("name", flat=True)),
    }
    form = StaffUserForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_user_update(
                actor=request.user,
                user=user,
                roles=data["roles"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except services.StaffUserError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"User {user.get_username()} saved.")
            return redirect("backoffice:user_list")
    return render(
        request, "backoffice/user_form.html", {"form": form, "edited": user, "creating": False}
    )


# The permission is checked before the method so that a user without it gets 403 (and
# an anonymous one the login page) whatever the method.
@permission_required(p.MANAGE_USERS)
@require_POST
def user_set_active(request: AuthenticatedHttpRequest, pk: int, active: bool) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    service = services.staff_user_activate if active else services.staff_user_deactivate
    try:
        service(actor=request.user, user=user)
    except services.StaffUserError as exc:
        messages.error(request, str(exc))
    else:
        state = "reactivated" if active else "deactivated"
        messages.success(request, f"User {user.get_username()} {state}.")
    return redirect("backoffice:user_edit", pk=user.pk)


@permission_required(p.MANAGE_USERS)
def lockout_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "backoffice/lockout_list.html",
        {"lockouts": selectors.login_lockout_list(), "failure_limit": failure_limit()},
    )


@permission_required(p.MANAGE_USERS)
@require_POST
def lockout_lift(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        row = services.login_lockout_lift(throttle_pk=pk)
    except LoginThrottle.DoesNotExist:
        raise Http404("No such lockout: it expired or was lifted already") from None
    messages.success(request, f"Lockout lifted: {row}.")
    return redirect("backoffice:lockout_list")
