"""Admin pages under /channel/ and the API under /channel/v1/.

Every API operation is wrapped here so that each call, answered or refused (401s
included), leaves one ChannelCall row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, include, path

from . import services, views
from .api import api

app_name = "channel"

View = Callable[..., HttpResponse]
# ninja's own: the document, and the API's root (which ninja reverses to build paths).
UNLOGGED = {"openapi-json", "api-root"}


def _logged(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.monotonic()
        status = 500  # unless the view answers: an exception becomes Django's 500
        try:
            response = view(request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            services.call_record(
                client=getattr(request, "channel_client", None),
                method=request.method or "",
                path=request.path,
                action=getattr(request, "channel_action", ""),
                status=status,
                error_code=getattr(request, "channel_error_code", ""),
                idempotency_key=request.headers.get("Idempotency-Key", ""),
                fulfilment_id=getattr(request, "channel_fulfilment_id", None),
                duration_ms=int((time.monotonic() - started) * 1000),
            )

    return wrapper


def _api_urls() -> tuple[list[URLPattern], str, str]:
    patterns, app, namespace = api.urls
    wrapped = [
        entry
        if entry.name in UNLOGGED
        else URLPattern(entry.pattern, _logged(entry.callback), entry.default_args, entry.name)
        for entry in patterns
        if isinstance(entry, URLPattern)
    ]
    return wrapped, app, namespace


urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/rotate/", views.client_rotate, name="client_rotate"),
    path("clients/<int:pk>/secret/", views.client_secret_rotate, name="client_secret_rotate"),
    path("clients/<int:pk>/revoke/", views.client_revoke, name="client_revoke"),
    path("clients/<int:pk>/calls/", views.client_calls, name="client_calls"),
    path("callbacks/<int:pk>/resend/", views.callback_resend, name="callback_resend"),
]

# Mounted by backoffice.urls outside the "channel" namespace, as "channel_api".
_patterns, _app, _namespace = _api_urls()
api_urlpatterns = [path("v1/", include((_patterns, _app), namespace=_namespace))]
