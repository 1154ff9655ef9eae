"""The one place the Django side builds a Licendi client from settings.

Every client built here notes the shapes it reads (coercions, unknown and missing
fields) and hands them to the drift counters when it is closed, so each app's calls
feed the "Upstream problems" page without doing anything for it.

Tests swap the transport (an in-process sandbox) with `use_transport`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from django.conf import settings

from licendi import AdaptiveLimiter, LicendiClient, Observations

from .upstream_problems import drift_record

_transport_override: httpx.BaseTransport | None = None


class RecordingClient(LicendiClient):
    """A client that stores what its parsers noticed when it is closed."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.observations is not None:
                drift_record(notes=self.observations.drain())


def licendi_client(*, limiter: AdaptiveLimiter | None = None) -> LicendiClient:
    """A new client; use it as a context manager so its connections are closed.

    `limiter` bounds (and adapts) the requests its threads keep in flight.
    """
    return RecordingClient(
        base_url=settings.LICENDI_BASE_URL,
        api_key=settings.LICENDI_API_KEY,
        timeout=settings.LICENDI_TIMEOUT_SECONDS,
        max_retries=settings.LICENDI_MAX_RETRIES,
        transport=_transport_override,
        observations=Observations(),
        limiter=limiter,
    )


@contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    global _transport_override
    previous, _transport_override = _transport_override, transport
    try:
        yield
    finally:
        _transport_override = previous
