"""Navigation shown in the base layout, filtered by what the user may open."""

from django.http import HttpRequest

from . import permissions as p

NAVIGATION = [
    ("Catalog", "catalog:product_list", p.VIEW),
    ("Orders", "orders:po_list", p.VIEW),
    ("Customers", "orders:customer_list", p.VIEW),
    ("Wallet", "wallet:overview", p.VIEW),
    ("Webhooks", "webhooks:event_list", p.MANAGE_WEBHOOKS),
    ("Audit", "backoffice:audit_list", p.VIEW_AUDIT),
    ("Users", "backoffice:user_list", p.MANAGE_USERS),
    ("Sales channel", "channel:client_list", p.MANAGE_USERS),
]


def navigation(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": [(label, name) for label, name, perm in NAVIGATION if user.has_perm(perm)]}
