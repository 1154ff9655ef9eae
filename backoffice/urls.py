from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from channel.urls import api_urlpatterns as channel_api

from . import accounts, health

urlpatterns = [
    # First: Django tries the patterns in order, and the webhook receiver is the address
    # called most often (by Licendi, for every delivery), so it is matched before the
    # admin's and every other app's patterns are tried.
    path("", include("webhooks.urls")),
    path("", include("dashboard.urls")),  # the home page
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's default login address, which people and tools try first.
    path(
        "accounts/login/",
        RedirectView.as_view(pattern_name="login", query_string=True, permanent=True),
        name="accounts_login",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("backoffice.urls_backoffice")),
    path("catalog/", include("catalog.urls")),
    path("", include("orders.urls")),
    path("wallet/", include("wallet.urls")),
    path("channel/", include(channel_api)),
    path("channel/", include("channel.urls")),
    path("notifications/", include("notifications.urls")),
]

# Error pages show the request id only (backoffice/errors.py).
handler400 = "backoffice.errors.bad_request"
handler403 = "backoffice.errors.permission_denied"
handler404 = "backoffice.errors.page_not_found"
handler500 = "backoffice.errors.server_error"
