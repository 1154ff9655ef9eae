"""An httpx transport that calls the sandbox in-process and realises network faults."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from .faults import ConnectionDropped

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class SandboxTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` plus the faults a WSGI app cannot express itself.

    "drop" becomes ``httpx.RemoteProtocolError`` (the server hung up) and "timeout" /
    "timeout_after" become ``httpx.ReadTimeout`` (no answer in time), exactly what a
    client sees from a real socket.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self._inner = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except ConnectionDropped as exc:
            if exc.kind == "timeout":
                raise httpx.ReadTimeout("sandbox: no response (timeout)", request=request) from None
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
