"""The unread badge of the top bar."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """Lazy: the count is read only when a template shows it (the base layout's badge),
    not for partials, and never for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": SimpleLazyObject(lambda: unread_count(user))}
