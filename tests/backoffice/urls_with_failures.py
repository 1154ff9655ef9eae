"""The project's URLconf plus views that fail, to render the error pages."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from backoffice.urls import handler400, handler403, handler404, handler500, urlpatterns

SECRET_IN_ERROR = "whsec_ErrorPageLeakCheck0123456789"


def boom(request):
    raise RuntimeError(f"upstream refused key ABCDE-FGHIJ-KLMNO-PQRST with {SECRET_IN_ERROR}")


def forbidden(request):
    raise PermissionDenied(f"not for you {SECRET_IN_ERROR}")


def suspicious(request):
    raise SuspiciousOperation(f"odd request {SECRET_IN_ERROR}")


urlpatterns = [
    *urlpatterns,
    path("__boom__/", boom),
    path("__forbidden__/", forbidden),
    path("__suspicious__/", suspicious),
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
