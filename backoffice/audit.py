"""Writing the audit log: one call site for every sensitive action."""

import functools
import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .context import current_audit_context
from .middleware import current_request_id
from .models import AuditEvent

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# More hops than any real chain of proxies; bounds the work a long header can cause.
MAX_FORWARDED_HOPS = 20


def _address(value: str | None) -> IPAddress | None:
    """A parsed address, IPv4-mapped IPv6 (::ffff:a.b.c.d) as IPv4; None when not one."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.cache
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value)


def trusted_proxy_networks() -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES as networks (validated when the settings load)."""
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client that sent `request`, as far as it can be trusted.

    The TCP peer (REMOTE_ADDR) is the client unless it is one of TRUSTED_PROXIES. A
    trusted proxy appends the address it received the request from to X-Forwarded-For,
    so the header is read from the right: each hop added by a trusted proxy is skipped,
    and the first address that is not a trusted proxy is the client. Entries to the left
    of it were written by the client itself and are never believed. Used by the audit
    context (so every audit row), the login throttle and the webhook receiver's log.
    """
    if request is None:
        return None
    current = _address(request.META.get("REMOTE_ADDR"))
    if current is None:
        return None
    networks = trusted_proxy_networks()
    if _is_trusted(current, networks):
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = forwarded.split(",")[-MAX_FORWARDED_HOPS:]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # Not an address: nothing further left can be trusted either; the last
                # trusted hop is the best answer there is.
                break
            current = address
            if not _is_trusted(address, networks):
                break
    return str(current)


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
