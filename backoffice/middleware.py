"""Request id (for structured logs) and the Content-Security-Policy header."""

import contextvars
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdMiddleware:
    """Takes a sane X-Request-ID from the proxy or makes one; echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """No inline script, no third-party origin: every asset is vendored under static/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# When IdleSessionMiddleware last pushed the session's expiry forward (epoch seconds).
IDLE_PUSHED_AT_KEY = "_idle_pushed_at"


def _is_background_request(request: HttpRequest) -> bool:
    # htmx GETs are polling (sync progress every 2 s) or look-ups inside a page; a page
    # left open must not keep an idle session alive. Page loads and every POST do.
    return request.method == "GET" and request.headers.get("HX-Request") == "true"


class IdleSessionMiddleware:
    """Idle staff are logged out SESSION_IDLE_SECONDS after their last own request.

    The session (SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS) is saved, and so its expiry
    pushed forward, on every request except background ones, but at most once every
    SESSION_IDLE_REFRESH_SECONDS: the session remembers when it was last pushed, and a
    request inside that interval leaves it alone (no UPDATE, no transaction). The expiry
    therefore lags the last request by at most that interval, which only ever ends an
    idle session sooner. Must come after SessionMiddleware in MIDDLEWARE so that it marks
    the session before it is saved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and not _is_background_request(request):
            now = int(time.time())
            last = session.get(IDLE_PUSHED_AT_KEY, 0)
            stale = not isinstance(last, int) or now - last >= settings.SESSION_IDLE_REFRESH_SECONDS
            # A session saved anyway (login, messages) pushes its expiry too: record it.
            if stale or session.modified:
                session[IDLE_PUSHED_AT_KEY] = now
        return response
