"""Error pages that show the request id and nothing else about the failure.

They are rendered without the context processors: a 500 may come from the database
being down, and the navigation and wallet banner would query it again.
"""

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader

from .middleware import current_request_id

_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Page not found",
    500: "Server error",
}
_EXPLANATIONS = {
    400: "The request could not be understood.",
    403: "You do not have permission to open this page, or the form expired.",
    404: "There is nothing at this address.",
    500: "Something went wrong on our side. The error has been logged.",
}


def _render(request: HttpRequest | None, status: int) -> str:
    request_id = getattr(request, "request_id", None) or current_request_id() or ""
    return loader.get_template("backoffice/errors/error.html").render(
        {
            "status": status,
            "title": _TITLES[status],
            "explanation": _EXPLANATIONS[status],
            "request_id": request_id,
        }
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseBadRequest(_render(request, 400))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseForbidden(_render(request, 403))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseNotFound(_render(request, 404))


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError(_render(request, 500))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # The reason stays in the log (django.security.csrf), not on the page.
    return HttpResponseForbidden(_render(request, 403))
