from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("backoffice.urls_backoffice")),
    path("catalog/", include("catalog.urls")),
    path("", include("orders.urls")),
    path("wallet/", include("wallet.urls")),
    path("", include("webhooks.urls")),
]
