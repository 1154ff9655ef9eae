"""A scripted fake upstream on httpx.MockTransport, for the Licendi client unit tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from licendi import LicendiClient

BASE_URL = "http://licendi.test"
API_KEY = "test-api-key-do-not-log"

Reply = httpx.Response | Exception


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_response(
    status: int, code: str, message: str = "refused", headers: dict[str, str] | None = None
) -> httpx.Response:
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


class ScriptedUpstream:
    """Answers requests from a queue of replies; an Exception reply is raised.

    Once the queue is down to its last reply, that reply is repeated, so a
    single reply serves any number of attempts.
    """

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


class ClientFactory:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.clients: list[LicendiClient] = []

    def __call__(
        self, upstream: Callable[[httpx.Request], httpx.Response], **options: Any
    ) -> LicendiClient:
        options.setdefault("sleep", self.sleeps.append)
        options.setdefault("rng", lambda: 0.5)
        client = LicendiClient(
            BASE_URL, API_KEY, transport=httpx.MockTransport(upstream), **options
        )
        self.clients.append(client)
        return client
