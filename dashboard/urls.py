"""The home page. Not namespaced: `home` is the project's landing URL name (login
redirects to it)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/live/", views.live, name="dashboard_live"),
]
