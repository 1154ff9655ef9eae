"""Navigation shown in the base layout, filtered by what the user may open."""

from weakref import WeakKeyDictionary

from django.http import HttpRequest
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.urls.resolvers import URLResolver

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

# URLs without arguments by (script prefix, name), for each URLconf's resolver: a new
# resolver (another URLconf, or Django's URL caches cleared) starts afresh.
_FIXED_URLS: WeakKeyDictionary[URLResolver, dict[tuple[str, str], str]] = WeakKeyDictionary()


def fixed_url(name: str) -> str:
    """`reverse(name)` for a URL that takes no arguments, reversed once per process.

    Every page's layout links a dozen such URLs (navigation, log out, the inbox), and a
    `reverse()` walks the URLconf's namespaces and patterns each time.
    """
    urls = _FIXED_URLS.setdefault(get_resolver(get_urlconf()), {})
    key = (get_script_prefix(), name)
    url = urls.get(key)
    if url is None:
        url = urls[key] = reverse(name)
    return url


def navigation(request: HttpRequest) -> dict[str, list[tuple[str, str, bool]]]:
    """The top bar's links the user may open: label, URL, and whether the page shown
    is in that link's section (its path starts like the link's)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    section = request.path[:4]
    items = []
    for label, name, perm in NAVIGATION:
        if user.has_perm(perm):
            try:
                url = fixed_url(name)
            except NoReverseMatch:  # as `{% url ... as var %}`: an empty link
                url = ""
            items.append((label, url, bool(url) and url[:4] == section))
    return {"nav_items": items}
