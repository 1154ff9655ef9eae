from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("products/<str:sku>/", views.product_detail, name="product_detail"),
    path("price-changes/", views.price_changes, name="price_changes"),
    path("syncs/", views.sync_runs, name="sync_runs"),
    path("syncs/run/", views.sync_now, name="sync_now"),
    path("syncs/live/", views.sync_live, name="sync_live"),
    path("syncs/<int:pk>/progress/", views.sync_run_progress, name="sync_run_progress"),
    path("pricing-rules/", views.rule_list, name="rule_list"),
    path("pricing-rules/new/", views.rule_create, name="rule_create"),
    path("pricing-rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("pricing-rules/preview/", views.rule_preview, name="rule_preview"),
    path("pricing-rules/<int:pk>/preview/", views.rule_preview, name="rule_preview_edit"),
    path("pricing-rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
