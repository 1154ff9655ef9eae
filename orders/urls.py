from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.po_list, name="po_list"),
    path("orders/new/", views.po_create, name="po_create"),
    path("orders/sync/", views.po_sync, name="po_sync"),
    path("orders/combinations/", views.combination_search, name="combination_search"),
    path("orders/add-selected/", views.po_add_selected, name="po_add_selected"),
    path("orders/<int:pk>/", views.po_detail, name="po_detail"),
    path("orders/<int:pk>/live/", views.po_live, name="po_live"),
    path("orders/<int:pk>/edit/", views.po_edit, name="po_edit"),
    path("orders/<int:pk>/lines/", views.po_line_set, name="po_line_set"),
    path("orders/<int:pk>/confirm/", views.po_confirm, name="po_confirm"),
    path("orders/<int:pk>/reconfirm/", views.po_reconfirm, name="po_reconfirm"),
    path("orders/<int:pk>/cancel/", views.po_cancel, name="po_cancel"),
    path("orders/<int:pk>/approve/", views.po_approve, name="po_approve"),
    path("orders/<int:pk>/reject/", views.po_reject, name="po_reject"),
    path("orders/<int:pk>/check/", views.po_check_upstream, name="po_check_upstream"),
    path("orders/<int:pk>/not-placed/", views.po_not_placed_request, name="po_not_placed_request"),
    path(
        "orders/<int:pk>/not-placed/approve/",
        views.po_not_placed_approve,
        name="po_not_placed_approve",
    ),
    path(
        "orders/unexpected-keys/<int:pk>/decide/",
        views.unexpected_key_decide,
        name="unexpected_key_decide",
    ),
    path("keys/", views.key_stock, name="key_stock"),
    path("keys/assign/", views.keys_assign_selected, name="keys_assign_selected"),
    path("keys/<int:pk>/reveal/", views.key_reveal, name="key_reveal"),
    path("keys/<int:pk>/copied/", views.key_copied, name="key_copied"),
    path("keys/<int:pk>/assign/", views.key_assign, name="key_assign"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/keys.csv", views.customer_keys_export, name="customer_keys_export"),
    path("customers/<int:pk>/email-keys/", views.customer_keys_email, name="customer_keys_email"),
    path(
        "customers/<int:pk>/email-selected-keys/",
        views.customer_keys_email_chosen,
        name="customer_keys_email_selected",
    ),
]
