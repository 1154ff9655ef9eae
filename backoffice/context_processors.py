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


def _fixed_urls() -> tuple[dict[tuple[str, str], str], str]:
    """The URLs kept for the current URLconf, and the current script prefix."""
    return _FIXED_URLS.setdefault(get_resolver(get_urlconf()), {}), get_script_prefix()


def fixed_url(name: str) -> str:
    """`reverse(name)` for a URL that takes no arguments, reversed once per process.

    Every page's layout links a dozen such URLs (navigation, log out, the inbox), and a
    `reverse()` walks the URLconf's namespaces and patterns each time.
    """
    urls, prefix = _fixed_urls()
    return _kept_url(urls, prefix, name)


def _kept_url(urls: dict[tuple[str, str], str], prefix: str, name: str) -> str:
    url = urls.get((prefix, name))
    if url is None:
        url = urls[prefix, name] = reverse(name)
    return url


def navigation(request: HttpRequest) -> dict[str, list[tuple[str, str, bool]]]:
    """The top bar's links the user may open: label, URL, and whether the page shown
    is in that link's section (its path starts like the link's)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    section = request.path[:4]
    urls, prefix = _fixed_urls()
    items = []
    for label, name, perm in NAVIGATION:
        if user.has_perm(perm):
            try:
                url = _kept_url(urls, prefix, name)
            except NoReverseMatch:  # as `{% url ... as var %}`: an empty link
                url = ""
            items.append((label, url, bool(url) and url[:4] == section))
    return {"nav_items": items}
