"""Project-level pages under the `backoffice` namespace (audit log, staff users)."""

from django.urls import path

from . import upstream_views, views

app_name = "backoffice"

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("upstream/", upstream_views.upstream_problems, name="upstream_problems"),
    path(
        "upstream/acknowledge/",
        upstream_views.drift_acknowledge,
        name="drift_acknowledge",
    ),
    path("staff/", views.user_list, name="user_list"),
    path("staff/lockouts/", views.lockout_list, name="lockout_list"),
    path("staff/lockouts/<int:pk>/lift/", views.lockout_lift, name="lockout_lift"),
    path("staff/new/", views.user_create, name="user_create"),
    path("staff/<int:pk>/", views.user_edit, name="user_edit"),
    path(
        "staff/<int:pk>/deactivate/",
        views.user_set_active,
        {"active": False},
        name="user_deactivate",
    ),
    path(
        "staff/<int:pk>/activate/",
        views.user_set_active,
        {"active": True},
        name="user_activate",
    ),
]
