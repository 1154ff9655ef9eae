from django.urls import path

from . import views

app_name = "wallet"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("refresh/", views.refresh, name="refresh"),
    path("ledger/", views.ledger, name="ledger"),
    path("gaps/", views.gaps, name="gaps"),
    path("gaps/import/", views.statement_import, name="statement_import"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
]
