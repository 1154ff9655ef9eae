"""The one place the Django side builds a Licendi client from settings.

Tests swap the transport (an in-process sandbox) with `use_transport`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from django.conf import settings

from licendi import LicendiClient

_transport_override: httpx.BaseTransport | None = None


def licendi_client() -> LicendiClient:
    """A new client; use it as a context manager so its connections are closed."""
    return LicendiClient(
        base_url=settings.LICENDI_BASE_URL,
        api_key=settings.LICENDI_API_KEY,
        timeout=settings.LICENDI_TIMEOUT_SECONDS,
        max_retries=settings.LICENDI_MAX_RETRIES,
        transport=_transport_override,
    )


@contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    global _transport_override
    previous, _transport_override = _transport_override, transport
    try:
        yield
    finally:
        _transport_override = previous
