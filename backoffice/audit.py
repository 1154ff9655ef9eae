"""Writing the audit log: one call site for every sensitive action."""

from typing import Any

from django.http import HttpRequest

from .context import current_audit_context
from .middleware import current_request_id
from .models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR is the proxy behind a load balancer; docs/operations.md says how to
    # make gunicorn pass the client address (--forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. `target` may be a model instance (type and pk are taken).

    The actor, client address and request id default to the audit context of the current
    request or task (backoffice.context); pass `actor` to record someone else.
    """
    ctx = current_audit_context()
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if actor is None:
        actor = ctx.actor()
    if target is not None:
        target_type = target_type or target._meta.label
        target_id = target_id or str(target.pk)
    actor_name = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_name = actor.get_username()
    else:
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_name=actor_name,
        target_type=target_type,
        target_id=str(target_id),
        summary=summary[:300],
        details=details or {},
        ip_address=client_ip(request) if request is not None else ctx.client_ip,
        request_id=current_request_id() or ctx.request_id,
    )
