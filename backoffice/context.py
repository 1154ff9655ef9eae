"""Who is acting, and from where: the audit context of the current request or task.

Services take data, not an `HttpRequest`: the user, the client address and the request id
that an audit row records travel in a context variable instead. `AuditContextMiddleware`
sets it for each request; `backoffice.jobs.enqueue` copies it into the headers of the task
it queues and the task runner (`backoffice.celery`) sets it again around the task, so an
action finished by the worker is recorded with the request that started it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "audit_context"


@dataclass(frozen=True)
class AuditContext:
    # `user` may be Django's lazy request.user: it is only evaluated when an audit row is
    # written, so a request that audits nothing never loads its user for this.
    user: Any = None
    user_id: int | None = None
    client_ip: str | None = None
    request_id: str = ""

    def actor(self) -> Any:
        """The authenticated user acting now, or None (anonymous, beat, system)."""
        user = self.user
        if user is None and self.user_id is not None:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(pk=self.user_id).first()
        if user is not None and getattr(user, "is_authenticated", False):
            return user
        return None

    def to_headers(self) -> dict[str, Any]:
        actor = self.actor() if self.user is not None else None
        user_id = actor.pk if actor is not None else self.user_id
        return {
            HEADER: {
                "user_id": user_id,
                "client_ip": self.client_ip,
                "request_id": self.request_id,
            }
        }

    @classmethod
    def from_headers(cls, value: Any) -> AuditContext:
        if not isinstance(value, dict):
            return cls()
        user_id = value.get("user_id")
        return cls(
            user_id=user_id if isinstance(user_id, int) else None,
            client_ip=value.get("client_ip") or None,
            request_id=str(value.get("request_id") or ""),
        )


# The default is immutable (a frozen dataclass), so sharing it is safe.
_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "audit_context",
    default=AuditContext(),  # noqa: B039
)


def current_audit_context() -> AuditContext:
    return _current.get()


def set_audit_context(ctx: AuditContext) -> contextvars.Token[AuditContext]:
    return _current.set(ctx)


def reset_audit_context(token: contextvars.Token[AuditContext]) -> None:
    _current.reset(token)


@contextmanager
def audit_context(**changes: Any) -> Iterator[AuditContext]:
    """Run a block as someone: `with audit_context(user=admin): service(...)`.

    For management commands and tests; requests and tasks get theirs set for them.
    """
    ctx = replace(_current.get(), **changes)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


class AuditContextMiddleware:
    """Sets the audit context for the request. Must come after AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .audit import client_ip
        from .middleware import current_request_id

        token = _current.set(
            AuditContext(
                user=getattr(request, "user", None),
                client_ip=client_ip(request),
                request_id=current_request_id() or "",
            )
        )
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
